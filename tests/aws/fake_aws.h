// A stand-in for AWS's endpoints in tests: a real HTTPS listener on a free
// loopback port (the plane's own HttpsServer), with a certificate from a test
// CA the client is told to trust through AWS_CA_BUNDLE. It records every
// request exactly as sent (for signature checks by an independent signer)
// and answers with what the test's handler returns — the services' official
// response shapes, written out in the tests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "server/https_server.h"

namespace byoc::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // raw, as on the request line
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;

  std::string header(const std::string& lowercase_name) const;
  // The query protocols' parameters (form body), decoded; {} for other bodies.
  std::map<std::string, std::string> form() const;
  // "Action" of a query request, the operation of an X-Amz-Target, or "".
  std::string action() const;
};

struct CannedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

class FakeAws {
 public:
  using Handler = std::function<CannedResponse(const RecordedRequest&)>;
  explicit FakeAws(Handler handler);
  ~FakeAws();

  std::string url() const;            // https://127.0.0.1:PORT
  const std::string& ca_pem() const { return ca_pem_; }
  std::vector<RecordedRequest> requests() const;
  void set_handler(Handler handler);

 private:
  SystemClock clock_;
  std::string ca_pem_;
  mutable std::mutex mutex_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  std::unique_ptr<server::HttpsServer> server_;
  std::thread thread_;
};

// An XML answer of the query protocol: <{Op}Response><{Op}Result>inner…</…>.
CannedResponse query_answer(const std::string& operation, const std::string& result_xml,
                            const std::string& xmlns = "https://sts.amazonaws.com/doc/2011-06-15/");
// A query-protocol error document with `status`.
CannedResponse query_error(int status, const std::string& code, const std::string& message);

// The presigned STS URL an EKS bearer token ("k8s-aws-v1." + base64url)
// carries; nullopt when `token` is not one.
std::optional<std::string> eks_token_url(const std::string& token);

// Re-signs `requests` with AWS's own JavaScript signer (tests/aws/signer,
// on Node; its verify.mjs says what each request holds): its output ("verified
// N of N" when each matches), and its exit status in `status`.
std::string verify_with_aws_signer(const nlohmann::json& requests, std::optional<int>& status);

}  // namespace byoc::testing
