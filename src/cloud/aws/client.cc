#include "cloud/aws/client.h"

#include <spdlog/spdlog.h>

#include <random>

#include "cloud/aws/endpoints.h"
#include "cloud/aws/sigv4.h"

namespace byoc::aws {
namespace {

ErrorKind kind_of(const AwsError& e) {
  if (e.status == 403 || e.code.rfind("AccessDenied", 0) == 0 || e.code == "UnauthorizedOperation")
    return ErrorKind::kForbidden;
  // Retried like throttling (the SDKs do), but when it persists it is an
  // account limit (stacks, roles, quotas): for the operator, not for later.
  if (e.code == "LimitExceededException") return ErrorKind::kInvalid;
  if (is_retryable(e.status, e.code)) return ErrorKind::kUnavailable;
  if (e.status >= 400 && e.status < 500) return ErrorKind::kInvalid;
  return ErrorKind::kUnavailable;
}

std::string describe(const std::string& service, const std::string& operation, const AwsError& e) {
  std::string text = service + " " + operation + ": " + (e.code.empty() ? "HTTP " + std::to_string(e.status) : e.code);
  if (!e.message.empty()) text += ": " + e.message;
  if (!e.request_id.empty()) text += " (request id " + e.request_id + ")";
  return text;
}

std::function<double()> random_jitter() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

AwsCallError::AwsCallError(std::string service, std::string operation, AwsError error)
    : Error(kind_of(error), "aws_" + (error.code.empty() ? std::string("http_") + std::to_string(error.status) : error.code),
            describe(service, operation, error)),
      service_(std::move(service)),
      operation_(std::move(operation)),
      error_(std::move(error)) {}

Client::Client(ClientOptions options) : options_(std::move(options)), model_(model_of(options_.service)) {
  if (!options_.transport || !options_.clock) throw Error::Internal("aws::Client needs a transport and a clock");
  if (!options_.jitter) options_.jitter = random_jitter();
  if (!options_.sleep) {
    const Clock* clock = options_.clock;
    options_.sleep = [clock](std::chrono::milliseconds d) { clock->sleep_for(d); };
  }
}

nlohmann::json Client::call(std::string_view operation, const nlohmann::json& params) {
  const nlohmann::json& metadata = model_.metadata();
  const std::string service_id = metadata.value("serviceId", "");
  const std::string op(operation);
  SerializeOptions serialize;
  serialize.idempotency_token = options_.idempotency_token;
  // Serialized once: a retry carries the same idempotency token.
  const HttpRequest request = serialize_request(model_, operation, params, serialize);
  const ServiceEndpoint endpoint =
      resolve_endpoint(service_id, metadata.value("endpointPrefix", ""), options_.region, options_.env);
  const std::string authority = request.host_prefix + endpoint.authority;
  const std::string path_and_query = endpoint.path + request.path_and_query;
  std::string signing_name = metadata.value("signingName", metadata.value("endpointPrefix", ""));

  for (int attempt = 1;; ++attempt) {
    SigningRequest unsigned_request{request.method, path_and_query, request.headers, request.body};
    unsigned_request.headers.insert(unsigned_request.headers.begin(), {"Host", authority});
    SigningRequest to_send = unsigned_request;
    if (options_.credentials) {
      Credentials credentials = options_.credentials->credentials();
      SigningParams p;
      p.access_key = credentials.access_key_id;
      p.secret_key = credentials.secret_access_key;
      p.session_token = credentials.session_token;
      p.region = endpoint.signing_region;
      p.service = signing_name;
      p.time = options_.clock->system_time();
      to_send = sign(unsigned_request, p).signed_request;
    }
    TransportRequest t;
    t.method = to_send.method;
    t.url = endpoint.scheme + "://" + authority + to_send.path_and_query;
    t.body = to_send.body;
    t.timeout = options_.timeout;
    // Host too, exactly as signed: curl would write its own (without a
    // default port, say) and the signature would no longer match.
    for (auto& [name, value] : to_send.headers) t.headers.emplace_back(name, value);
    // Unsigned, as the SDKs leave it: proxies may rewrite it.
    t.headers.emplace_back("User-Agent", "byoc");

    Attempt record{service_id, op, attempt, t.url, 0, ""};
    HttpResponse response;
    try {
      response = options_.transport->send(t);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnavailable) throw;
      record.error_code = e.code();
      if (options_.on_attempt) options_.on_attempt(record);
      if (attempt >= options_.retry.max_attempts) throw;
      spdlog::warn("aws {} {}: attempt {} got no answer ({}); retrying", service_id, op, attempt, e.what());
      options_.sleep(retry_delay(options_.retry, attempt, options_.jitter()));
      continue;
    }
    // A 2xx that can't be parsed throws here, unretried: the operation may have happened.
    ParsedResponse parsed = parse_response(model_, operation, response);
    record.status = response.status;
    record.error_code = parsed.ok ? "" : parsed.error.code;
    if (options_.on_attempt) options_.on_attempt(record);
    if (parsed.ok) return std::move(parsed.result);
    if (attempt >= options_.retry.max_attempts || !is_retryable(parsed.error.status, parsed.error.code))
      throw AwsCallError(service_id, op, std::move(parsed.error));
    spdlog::warn("aws {} {}: attempt {}: {}; retrying", service_id, op, attempt, parsed.error.code);
    options_.sleep(retry_delay(options_.retry, attempt, options_.jitter()));
  }
}

}  // namespace byoc::aws
