// How AWS requests reach the network: one interface, so the client, the
// credential providers and IMDS share one way of sending, and one libcurl
// implementation. TLS trust follows the AWS CLI: AWS_CA_BUNDLE (a PEM file)
// replaces the system's trust store when set.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "cloud/aws/http_message.h"

namespace byoc::aws {

struct TransportRequest {
  std::string method;
  std::string url;  // scheme://host[:port]/path?query
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Any HTTP status is an answer; throws byoc::Error kUnavailable only when
  // none came (connection refused, TLS failure, timeout). Implementations
  // are shared by the credential providers and the clients of several
  // threads: they must be thread-safe.
  virtual HttpResponse send(const TransportRequest& request) = 0;
};

// Answers larger than this end the call with kUnavailable: no AWS API this
// code calls answers with more, and a misbehaving endpoint must not fill memory.
inline constexpr size_t kMaxResponseBytes = 16 << 20;
// The same for an answer's status line and headers together.
inline constexpr size_t kMaxResponseHeaderBytes = 64 << 10;

// `ca_bundle_pem` empty: the system's trust store. Redirects are never
// followed (a 3xx is returned as the answer), only http and https are
// spoken, and each call is bounded by its request's timeout. A request
// header whose name is empty or holds ':', a blank, CR, LF or NUL, or whose
// value holds CR, LF or NUL, is refused before anything is sent (byoc::Error
// kInvalid "aws_header_invalid"; the message never shows the value).
// Thread-safe: concurrent calls each use an easy handle of their own, taken
// from a small pool that keeps connections alive between calls.
std::unique_ptr<Transport> make_curl_transport(std::string ca_bundle_pem = "");

// The PEM text of the file AWS_CA_BUNDLE names, given the variable's value;
// "" when it is unset or empty (the system store). Throws byoc::Error
// kInvalid "aws_ca_bundle_invalid" (field AWS_CA_BUNDLE) when the file
// can't be read or holds no PEM certificate.
std::string read_ca_bundle(const std::optional<std::string>& aws_ca_bundle);

}  // namespace byoc::aws
