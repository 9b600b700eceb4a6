#include "fake_aws.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "base/crypto.h"
#include "base/files.h"
#include "base/percent.h"
#include "base/process.h"
#include "server/http.h"
#include "testing/testing.h"

namespace byoc::testing {
using namespace std::chrono_literals;

std::string RecordedRequest::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

std::map<std::string, std::string> RecordedRequest::form() const {
  std::map<std::string, std::string> out;
  if (header("content-type").rfind("application/x-www-form-urlencoded", 0) != 0) return out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    std::string pair = body.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto decode = [](const std::string& text) { return percent_decode(text, true).value_or(text); };
      out[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

std::string RecordedRequest::action() const {
  auto f = form();
  if (auto it = f.find("Action"); it != f.end()) return it->second;
  std::string target = header("x-amz-target");
  auto dot = target.rfind('.');
  return dot == std::string::npos ? target : target.substr(dot + 1);
}

FakeAws::FakeAws(Handler handler) : handler_(std::move(handler)) {
  using namespace std::chrono_literals;
  crypto::CertificateSpec ca_spec;
  ca_spec.common_name = "fake-aws-ca";
  ca_spec.not_before = clock_.system_time() - 1h;
  ca_spec.not_after = clock_.system_time() + 24h;
  auto ca = crypto::make_ca(ca_spec);
  crypto::CertificateSpec leaf = ca_spec;
  leaf.common_name = "127.0.0.1";
  leaf.ip_addresses = {"127.0.0.1"};
  leaf.dns_names = {"localhost"};
  leaf.server_auth = true;
  auto cert = crypto::issue(ca, leaf);
  ca_pem_ = ca.cert_pem;
  server::HttpsServerOptions o;
  o.cert_chain_pem = cert.cert_pem;
  o.key_pem = cert.key_pem;
  o.io_threads = 1;
  server_ = std::make_unique<server::HttpsServer>(
      o, clock_, [this](server::HttpRequest& req, std::shared_ptr<server::Responder> responder) {
        RecordedRequest r{req.method, req.target, req.headers, req.body};
        Handler handler;
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(r);
          handler = handler_;
        }
        CannedResponse canned = handler ? handler(r) : CannedResponse{404, {}, ""};
        server::HttpResponse response;
        response.status = canned.status;
        response.body = canned.body;
        response.headers = canned.headers;
        responder->send(std::move(response));
      });
  thread_ = std::thread([this] { server_->run(); });
}

FakeAws::~FakeAws() {
  server_->stop();
  thread_.join();
}

std::string FakeAws::url() const { return "https://127.0.0.1:" + std::to_string(server_->port()); }

std::vector<RecordedRequest> FakeAws::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeAws::set_handler(Handler handler) {
  std::lock_guard lock(mutex_);
  handler_ = std::move(handler);
}

CannedResponse query_answer(const std::string& operation, const std::string& result_xml, const std::string& xmlns) {
  return {200,
          {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", "req-" + operation}},
          "<" + operation + "Response xmlns=\"" + xmlns + "\"><" + operation + "Result>" + result_xml + "</" +
              operation + "Result><ResponseMetadata><RequestId>req-" + operation +
              "</RequestId></ResponseMetadata></" + operation + "Response>"};
}

CannedResponse query_error(int status, const std::string& code, const std::string& message) {
  return {status,
          {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", "req-error"}},
          "<ErrorResponse><Error><Type>Sender</Type><Code>" + code + "</Code><Message>" + message +
              "</Message></Error><RequestId>req-error</RequestId></ErrorResponse>"};
}

// Runs tests/aws/signer/verify.mjs on `requests`: its output, and its exit status in `status`.
std::string verify_with_aws_signer(const nlohmann::json& requests, std::optional<int>& status) {
  TempDir dir;
  files::write_atomic(dir.path() / "requests.json", nlohmann::json{{"requests", requests}}.dump(), 0600);
  proc::SpawnOptions spawn;
  spawn.argv = {"node", (source_dir() / "tests/aws/signer/verify.mjs").string(),
                (dir.path() / "requests.json").string()};
  spawn.output = dir.path() / "out.txt";
  pid_t pid = proc::spawn(spawn);
  if (!proc::wait_for(60s, [&] { return (status = proc::try_reap(pid)).has_value(); })) {
    proc::terminate(pid, 1s);
    return "node did not finish";
  }
  return files::read(dir.path() / "out.txt");
}

std::optional<std::string> eks_token_url(const std::string& token) {
  const std::string prefix = "k8s-aws-v1.";
  if (token.rfind(prefix, 0) != 0) return std::nullopt;
  std::string b64 = token.substr(prefix.size());
  for (char& ch : b64) ch = ch == '-' ? '+' : ch == '_' ? '/' : ch;
  while (b64.size() % 4) b64 += '=';
  return crypto::base64_decode(b64);
}

}  // namespace byoc::testing
