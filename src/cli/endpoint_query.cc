#include "cli/endpoint_query.h"

#include "base/crypto.h"

namespace byoc::cli {

std::string basic_authorization(const std::string& user, const std::string& password) {
  return "Basic " + crypto::base64(user + ":" + password);
}

namespace {
http::Request post_query(const std::string& endpoint, const std::string& sql, std::chrono::milliseconds timeout) {
  http::Request request;
  request.method = "POST";
  std::string base = endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + "/";
  request.body = sql;
  request.timeout = timeout;
  return request;
}
}  // namespace

http::Response query_endpoint(const std::string& endpoint, const std::string& ca_pem, const std::string& user,
                              const std::string& password, const std::string& sql,
                              std::chrono::milliseconds timeout) {
  http::Client client(http::TlsOptions{.ca_pem = ca_pem});
  http::Request request = post_query(endpoint, sql, timeout);
  request.headers = {{"Authorization", basic_authorization(user, password)}};
  return client.send(request);
}

http::Response query_support_gateway(const std::string& gateway, const std::string& ca_pem,
                                     const std::string& certificate_pem, const std::string& key_pem,
                                     const std::string& sql, std::chrono::milliseconds timeout) {
  http::Client client(
      http::TlsOptions{.ca_pem = ca_pem, .client_cert_pem = certificate_pem, .client_key_pem = key_pem});
  http::Request request = post_query(gateway, sql, timeout);
  // Held until the query is done: an error halfway through a large result
  // is then a 500, not a 200 with the error appended to what was sent.
  request.url += "?wait_end_of_query=1";
  return client.send(request);
}

}  // namespace byoc::cli
