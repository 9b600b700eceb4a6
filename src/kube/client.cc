#include "kube/client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "base/http_client.h"

namespace byoc::kube {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

ErrorKind kind_of_status(int status) {
  switch (status) {
    case 400: return ErrorKind::kBadRequest;
    case 401: return ErrorKind::kUnauthenticated;
    case 403: return ErrorKind::kForbidden;
    case 404: return ErrorKind::kNotFound;
    case 405: return ErrorKind::kMethodNotAllowed;
    case 409: return ErrorKind::kConflict;
    case 410: return ErrorKind::kGone;
    case 413: return ErrorKind::kTooLarge;
    case 415: return ErrorKind::kUnsupportedMedia;
    case 422: return ErrorKind::kInvalid;
    case 429: return ErrorKind::kUnavailable;
  }
  if (status >= 500) return ErrorKind::kUnavailable;
  return status >= 400 ? ErrorKind::kInvalid : ErrorKind::kInternal;
}

std::string attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

bool is_retryable(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// A reason goes into an error code: only a CamelCase word is taken.
std::string error_code(int status, const std::string& reason) {
  bool word = !reason.empty() && reason.size() <= 64 &&
              std::all_of(reason.begin(), reason.end(), [](unsigned char c) { return std::isalpha(c); });
  return "kube_" + (word ? reason : "http_" + std::to_string(status));
}

// Every occurrence of each secret in `text`, masked: a server that echoes
// the Authorization header back must not put the token into an error.
std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

struct Status {
  std::string reason;
  std::string message;
  std::optional<int> retry_after_seconds;  // details.retryAfterSeconds
  std::vector<std::string> causes;         // details.causes[].reason
};

// The cause the Eviction API gives a PodDisruptionBudget's refusal
// (policy/v1 DisruptionBudgetCause).
constexpr const char* kDisruptionBudgetCause = "DisruptionBudget";

bool has_cause(const std::vector<std::string>& causes, const std::string& cause) {
  return std::find(causes.begin(), causes.end(), cause) != causes.end();
}

// The API's Status object, when the body is one.
std::optional<Status> parse_status(const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_object() || doc.value("kind", "") != "Status") return std::nullopt;
  Status status;
  if (doc.contains("reason") && doc["reason"].is_string()) status.reason = doc["reason"];
  if (doc.contains("message") && doc["message"].is_string()) status.message = doc["message"];
  const json* seconds = doc.contains("details") && doc["details"].is_object() && doc["details"].contains("retryAfterSeconds")
                            ? &doc["details"]["retryAfterSeconds"]
                            : nullptr;
  if (seconds && seconds->is_number_integer() && *seconds >= 0) status.retry_after_seconds = seconds->get<int>();
  const json* causes = doc.contains("details") && doc["details"].is_object() && doc["details"].contains("causes")
                           ? &doc["details"]["causes"]
                           : nullptr;
  if (causes && causes->is_array()) {
    for (const json& cause : *causes) {
      if (cause.is_object() && cause.contains("reason") && cause["reason"].is_string())
        status.causes.push_back(cause["reason"]);
    }
  }
  return status;
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Retry-After in seconds (RFC 9110 §10.2.3 delay-seconds; the API server
// never sends the date form); nullopt when absent or not a number.
std::optional<int> retry_after_header(const std::string& value) {
  if (value.size() > 6 || !all_digits(value)) return std::nullopt;
  return std::stoi(value);
}

// Query values: everything but RFC 3986's unreserved characters escaped.
std::string query_escape(const std::string& value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// https://HOST[:PORT] with an optional trailing '/', nothing else: no path,
// query or user info can ride along into every request's URL.
std::string checked_server(std::string server) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  const std::string scheme = "https://";
  auto bad = [] {
    return Error::Invalid("kube_server_invalid", "the Kubernetes API server must be https://HOST[:PORT]", "server");
  };
  if (server.rfind(scheme, 0) != 0 || server.size() == scheme.size()) throw bad();
  std::string authority = server.substr(scheme.size());
  std::string host, port;
  bool host_ok;
  if (authority.front() == '[') {  // an IPv6 literal
    size_t close = authority.find(']');
    if (close == std::string::npos) throw bad();
    host = authority.substr(1, close - 1);
    port = authority.substr(close + 1);
    host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
      return std::isxdigit(c) || c == ':' || c == '.';
    });
  } else {
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    port = colon == std::string::npos ? "" : authority.substr(colon);
    host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '-';
    });
  }
  bool port_ok = port.empty() || (port[0] == ':' && port.size() <= 6 && all_digits(port.substr(1)) &&
                                  std::stoi(port.substr(1)) > 0 && std::stoi(port.substr(1)) <= 65535);
  if (!host_ok || !port_ok) throw bad();
  return server;
}

// A header value must not end the header early.
void check_token(const std::string& token) {
  bool ok = !token.empty() && std::none_of(token.begin(), token.end(), [](unsigned char c) { return c < 0x21 || c == 0x7f; });
  if (!ok) throw Error::Invalid("kube_token_invalid", "the Kubernetes bearer token is empty or holds blanks or controls");
}

std::function<double()> random_jitter() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

// Equal jitter: half the ceiling for sure, the other half random, so a
// retry never comes at once and a crowd of clients spreads out.
milliseconds backoff(const RetryLimits& limits, int attempt, double jitter) {
  int64_t ceiling = std::max<int64_t>(limits.base.count(), 1);
  for (int i = 1; i < attempt && ceiling < limits.max_backoff.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, limits.max_backoff.count());
  jitter = std::clamp(jitter, 0.0, 1.0);
  return milliseconds(ceiling / 2 + static_cast<int64_t>(jitter * static_cast<double>(ceiling - ceiling / 2)));
}

}  // namespace

ApiError::ApiError(int status, std::string reason, const std::string& message, std::vector<std::string> causes)
    : Error(kind_of_status(status), error_code(status, reason), message),
      status_(status),
      reason_(std::move(reason)),
      causes_(std::move(causes)) {}

struct Client::Answer {
  int status = 0;
  std::string body;
};

Client::Client(ClientConfig config) : config_(std::move(config)) {
  config_.server = checked_server(config_.server);
  if (config_.ca_pem.empty())
    throw Error::Invalid("kube_config_invalid", "the Kubernetes API server's CA is required", "ca");
  const bool certificate = !config_.client_cert_pem.empty() && !config_.client_key_pem.empty();
  if (!config_.token && !certificate)
    throw Error::Invalid("kube_config_invalid", "a bearer token provider or a client certificate and key is required",
                         "token");
  if (config_.client_cert_pem.empty() != config_.client_key_pem.empty())
    throw Error::Invalid("kube_config_invalid", "a client certificate needs its key, and a key its certificate",
                         "client_key");
  if (config_.field_manager.empty() || config_.field_manager.size() > 128)
    throw Error::Invalid("kube_config_invalid", "the field manager must be 1 to 128 characters", "field_manager");
  if (!config_.sleep) config_.sleep = [](milliseconds d) { std::this_thread::sleep_for(d); };
  if (!config_.jitter) config_.jitter = random_jitter();
  http::TlsOptions tls;
  tls.ca_pem = config_.ca_pem;
  tls.client_cert_pem = config_.client_cert_pem;
  tls.client_key_pem = config_.client_key_pem;
  http_ = std::make_unique<http::Client>(tls);
}

Client::~Client() = default;

http::Request Client::request(const std::string& method, const std::string& path_and_query,
                              const std::string& content_type, const std::string& body, const std::string& token) const {
  http::Request request;
  request.method = method;
  request.url = config_.server + path_and_query;
  request.body = body;
  request.timeout = config_.timeout;
  request.max_response_bytes = kMaxResponseBytes;
  request.cancel = config_.cancel;
  request.headers = {{"Accept", "application/json"}, {"User-Agent", "byoc"}};
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  return request;
}

Client::Answer Client::send(const std::string& method, const std::string& path_and_query,
                            const std::string& content_type, const std::string& body, const std::string& what,
                            OnConflict on_conflict) {
  const RetryLimits& limits = config_.retry;
  std::vector<std::string> tokens;  // every token sent, to keep them out of messages
  bool token_refreshed = false;
  milliseconds waited{0};
  // True when one more attempt may come after `delay`; then it has waited.
  auto wait_for_retry = [&](int attempt, milliseconds delay, const std::string& why) {
    if (attempt >= limits.max_attempts || waited + delay > limits.max_total_wait) return false;
    if (config_.cancel && config_.cancel->load()) return false;
    spdlog::warn("kubernetes {}: attempt {}: {}; retrying in {} ms", what, attempt, why, delay.count());
    config_.sleep(delay);
    waited += delay;
    return true;
  };
  for (int attempt = 1;; ++attempt) {
    std::string token;
    if (config_.token) {
      token = config_.token();
      check_token(token);
      tokens.push_back(token);
    }
    http::Response response;
    try {
      response = http_->send(request(method, path_and_query, content_type, body, token));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kUnavailable) throw;
      if (e.code() == "http_answer_too_large")  // the same again would be too: not retried
        throw Error::Unavailable("kubernetes " + what + ": the answer is larger than " +
                                 std::to_string(kMaxResponseBytes) + " bytes");
      std::string why = redact(e.what(), tokens);
      if (wait_for_retry(attempt, backoff(limits, attempt, config_.jitter()), why)) continue;
      throw Error::Unavailable("kubernetes " + what + ": " + why + " (after " + attempts(attempt) + ")");
    }
    if (response.status >= 200 && response.status < 300) return {response.status, std::move(response.body)};
    std::optional<Status> status = parse_status(response.body);
    // A token that expired in flight: one fresh token, one more try, no wait.
    if (response.status == 401 && config_.token && !token_refreshed) {
      token_refreshed = true;
      --attempt;
      continue;
    }
    // A budget's refusal is the answer, not a throttle: it holds until a pod it guards is Ready again.
    const bool budget_refusal = status && has_cause(status->causes, kDisruptionBudgetCause);
    const bool retryable = (is_retryable(response.status) && !budget_refusal) ||
                           (response.status == 409 && on_conflict == OnConflict::kRetry);
    if (retryable) {
      std::optional<int> seconds = retry_after_header(response.header("retry-after"));
      if (!seconds && status) seconds = status->retry_after_seconds;
      milliseconds delay = seconds ? milliseconds(int64_t{*seconds} * 1000) : backoff(limits, attempt, config_.jitter());
      if (wait_for_retry(attempt, delay, "HTTP " + std::to_string(response.status))) continue;
    }
    // Redacted whole, then cut: a token crossing the cut leaves no part behind.
    std::string reason = status ? redact(status->reason, tokens) : "";
    std::string detail = redact(status && !status->message.empty() ? status->message : response.body, tokens);
    detail = detail.substr(0, status && !status->message.empty() ? 1000 : 200);
    std::string message = "kubernetes " + what + ": HTTP " + std::to_string(response.status) +
                          (reason.empty() ? "" : " " + reason) + (detail.empty() ? "" : ": " + detail);
    if (retryable) message += " (after " + attempts(attempt) + ")";
    throw ApiError(response.status, reason, redact(message, tokens),
                   status ? status->causes : std::vector<std::string>{});
  }
}

json Client::apply(const json& object) {
  ObjectRef ref = ref_of(object);
  std::string path = object_path(ref) + "?fieldManager=" + query_escape(config_.field_manager) + "&force=true";
  // JSON is YAML: the apply content type takes the object as it is.
  // A conflict here is a concurrent write (forced apply takes every field it
  // sets): the same apply again settles it.
  Answer answer = send("PATCH", path, "application/apply-patch+yaml", object.dump(), "apply " + describe(ref),
                       OnConflict::kRetry);
  json result = json::parse(answer.body, nullptr, false);
  if (!result.is_object())
    throw Error::Unavailable("kubernetes apply " + describe(ref) + ": the answer is not a JSON object");
  return result;
}

json Client::strategic_merge_patch(const ObjectRef& ref, const json& patch, const std::string& subresource) {
  if (!subresource.empty() && subresource != "status")
    throw Error::Internal("kubernetes patch: no subresource '" + subresource + "'");
  std::string path = object_path(ref) + (subresource.empty() ? "" : "/" + subresource) +
                     "?fieldManager=" + query_escape(config_.field_manager);
  Answer answer = send("PATCH", path, "application/strategic-merge-patch+json", patch.dump(), "patch " + describe(ref));
  json result = json::parse(answer.body, nullptr, false);
  if (!result.is_object())
    throw Error::Unavailable("kubernetes patch " + describe(ref) + ": the answer is not a JSON object");
  return result;
}

EvictionOutcome Client::evict(const std::string& namespace_name, const std::string& pod_name) {
  const ObjectRef pod{"v1", "Pod", namespace_name, pod_name};
  const json eviction = {{"apiVersion", "policy/v1"},
                         {"kind", "Eviction"},
                         {"metadata", {{"name", pod_name}, {"namespace", namespace_name}}}};
  try {
    send("POST", object_path(pod) + "/eviction", "application/json", eviction.dump(), "evict " + describe(pod));
    return EvictionOutcome::kEvicted;
  } catch (const ApiError& e) {
    if (e.status() == 404) return EvictionOutcome::kNotFound;
    if ((e.status() == 429 || e.status() == 403) && has_cause(e.causes(), kDisruptionBudgetCause))
      return EvictionOutcome::kDisruptionBudget;
    throw;
  }
}

std::optional<json> Client::get(const ObjectRef& ref) {
  std::string path = object_path(ref);
  try {
    Answer answer = send("GET", path, "", "", "get " + describe(ref));
    json result = json::parse(answer.body, nullptr, false);
    if (!result.is_object())
      throw Error::Unavailable("kubernetes get " + describe(ref) + ": the answer is not a JSON object");
    return result;
  } catch (const ApiError& e) {
    if (e.status() == 404) return std::nullopt;
    throw;
  }
}

void Client::remove(const ObjectRef& ref, Propagation propagation) {
  std::string path = object_path(ref) + "?propagationPolicy=" +
                     (propagation == Propagation::kForeground ? "Foreground" : "Background");
  try {
    send("DELETE", path, "", "", "delete " + describe(ref));
  } catch (const ApiError& e) {
    if (e.status() != 404) throw;  // already gone: what was asked
  }
}

std::vector<json> Client::list(const std::string& api_version, const std::string& kind,
                               const std::string& namespace_name, const std::string& label_selector,
                               const std::string& field_selector) {
  return list_with_version(api_version, kind, namespace_name, label_selector, field_selector).items;
}

ListResult Client::list_with_version(const std::string& api_version, const std::string& kind,
                                     const std::string& namespace_name, const std::string& label_selector,
                                     const std::string& field_selector) {
  // Pages keep each answer small; the continue token walks them.
  constexpr int kPageSize = 500;
  constexpr int kMaxPages = 200;
  std::string base = collection_path(api_version, kind, namespace_name) + "?limit=" + std::to_string(kPageSize);
  if (!label_selector.empty()) base += "&labelSelector=" + query_escape(label_selector);
  if (!field_selector.empty()) base += "&fieldSelector=" + query_escape(field_selector);
  std::string what = "list " + kind + (namespace_name.empty() ? "" : " in " + namespace_name);
  ListResult result;
  std::vector<json>& items = result.items;
  std::string next;
  for (int page = 0; page < kMaxPages; ++page) {
    Answer answer = send("GET", next.empty() ? base : base + "&continue=" + query_escape(next), "", "", what);
    json doc = json::parse(answer.body, nullptr, false);
    // An empty list may come with "items": null.
    if (!doc.is_object() || !doc.contains("items") || !(doc["items"].is_array() || doc["items"].is_null()))
      throw Error::Unavailable("kubernetes " + what + ": the answer is not a list");
    if (doc["items"].is_null()) doc["items"] = json::array();
    // Every page is of one snapshot: the first says which.
    const json& meta = doc.contains("metadata") && doc["metadata"].is_object() ? doc["metadata"] : json::object();
    if (page == 0 && meta.contains("resourceVersion") && meta["resourceVersion"].is_string())
      result.resource_version = meta["resourceVersion"];
    for (auto& item : doc["items"]) {
      if (!item.is_object()) continue;
      // A list's items leave out what the list says once.
      item["apiVersion"] = api_version;
      item["kind"] = kind;
      items.push_back(std::move(item));
    }
    const json* token = doc.contains("metadata") && doc["metadata"].is_object() && doc["metadata"].contains("continue")
                            ? &doc["metadata"]["continue"]
                            : nullptr;
    if (!token || !token->is_string() || token->get_ref<const std::string&>().empty()) return result;
    next = token->get<std::string>();
  }
  throw Error::Unavailable("kubernetes " + what + ": more than " + std::to_string(kMaxPages) + " pages");
}

namespace {

// What a watch's answer holds, line by line, as it arrives. A line that is
// no event (the Status of an answer other than 200) is kept, bounded, for
// the error; an ERROR event ends the watch with its Status.
class WatchStream {
 public:
  WatchStream(std::string api_version, std::string kind, const std::function<bool(const WatchEvent&)>& on_event)
      : api_version_(std::move(api_version)), kind_(std::move(kind)), on_event_(on_event) {}

  // False ends the transfer.
  bool take(std::string_view piece) {
    for (size_t at = 0; at < piece.size();) {
      size_t newline = piece.find('\n', at);
      std::string_view part = piece.substr(at, newline == std::string_view::npos ? std::string_view::npos : newline - at);
      if (pending_.size() + part.size() > kMaxResponseBytes) {
        too_large_ = true;
        return false;
      }
      pending_.append(part);
      if (newline == std::string_view::npos) return true;
      at = newline + 1;
      if (!line_done()) return false;
    }
    return true;
  }
  // The rest after the answer ended (a last line without a newline).
  void finish() {
    if (!pending_.empty() && !stopped()) line_done();
  }

  bool stopped() const { return reader_done_ || error_ || too_large_; }
  bool reader_done() const { return reader_done_; }
  bool too_large() const { return too_large_; }
  const std::optional<json>& error() const { return error_; }
  const std::string& other_text() const { return other_; }
  const std::string& resource_version() const { return resource_version_; }

 private:
  bool line_done() {
    std::string line;
    line.swap(pending_);
    json doc = json::parse(line, nullptr, false);
    const bool event = doc.is_object() && doc.contains("type") && doc["type"].is_string() && doc.contains("object") &&
                       doc["object"].is_object();
    if (!event) {
      if (other_.size() < 4096) other_ += line.substr(0, 4096 - other_.size());
      return true;
    }
    const std::string type = doc["type"];
    json& object = doc["object"];
    if (type == "ERROR") {
      error_ = std::move(object);
      return false;
    }
    const json* version = object.contains("metadata") && object["metadata"].is_object() &&
                                  object["metadata"].contains("resourceVersion")
                              ? &object["metadata"]["resourceVersion"]
                              : nullptr;
    if (version && version->is_string()) resource_version_ = version->get<std::string>();
    if (type != "BOOKMARK") {
      object["apiVersion"] = api_version_;
      object["kind"] = kind_;
    }
    if (!on_event_(WatchEvent{type, object})) {
      reader_done_ = true;
      return false;
    }
    return true;
  }

  std::string api_version_, kind_;
  const std::function<bool(const WatchEvent&)>& on_event_;
  std::string pending_, other_, resource_version_;
  std::optional<json> error_;
  bool reader_done_ = false;
  bool too_large_ = false;
};

}  // namespace

std::string Client::watch(const std::string& api_version, const std::string& kind, const std::string& namespace_name,
                          const WatchOptions& options, const std::function<bool(const WatchEvent&)>& on_event) {
  if (options.resource_version.empty())
    throw Error::Invalid("kube_watch_invalid", "a watch starts from a resourceVersion (list first)", "resource_version");
  const std::string what = "watch " + kind + (namespace_name.empty() ? "" : " in " + namespace_name);
  std::string path = collection_path(api_version, kind, namespace_name) +
                     "?watch=1&allowWatchBookmarks=true&resourceVersion=" + query_escape(options.resource_version) +
                     "&timeoutSeconds=" + std::to_string(options.timeout.count());
  if (!options.label_selector.empty()) path += "&labelSelector=" + query_escape(options.label_selector);
  std::string token;
  if (config_.token) {
    token = config_.token();
    check_token(token);
  }
  const std::vector<std::string> tokens = {token};
  WatchStream stream(api_version, kind, on_event);
  http::Request req = request("GET", path, "", "", token);
  req.timeout = std::chrono::duration_cast<milliseconds>(options.timeout) + milliseconds(15'000);
  req.cancel = options.cancel ? options.cancel : config_.cancel;
  req.on_body = [&stream](std::string_view piece) { return stream.take(piece); };
  http::Response response;
  try {
    response = http_->send(req);
    stream.finish();
  } catch (const Error& e) {
    if (stream.too_large())
      throw Error::Unavailable("kubernetes " + what + ": an event is larger than " + std::to_string(kMaxResponseBytes) +
                               " bytes");
    const bool cancelled = (options.cancel && options.cancel->load()) || (config_.cancel && config_.cancel->load());
    if (!stream.stopped() && !cancelled) throw Error::Unavailable("kubernetes " + what + ": " + redact(e.what(), tokens));
  }
  auto api_error = [&](int status, const std::string& reason, const std::string& detail) {
    std::string message = "kubernetes " + what + ": HTTP " + std::to_string(status) +
                          (reason.empty() ? "" : " " + reason) + (detail.empty() ? "" : ": " + detail.substr(0, 1000));
    return ApiError(status, redact(reason, tokens), redact(message, tokens));
  };
  if (const auto& error = stream.error()) {
    // An ERROR event's object is a Status; its code says what (410: too old).
    int code = error->contains("code") && (*error)["code"].is_number_integer() ? (*error)["code"].get<int>() : 500;
    std::string reason = error->value("reason", "");
    throw api_error(code, reason, error->value("message", ""));
  }
  if (response.status != 0 && (response.status < 200 || response.status >= 300)) {
    std::optional<Status> status = parse_status(stream.other_text());
    throw api_error(response.status, status ? status->reason : "",
                    status && !status->message.empty() ? status->message : stream.other_text().substr(0, 200));
  }
  return stream.resource_version().empty() ? options.resource_version : stream.resource_version();
}

}  // namespace byoc::kube
