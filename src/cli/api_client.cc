#include "cli/api_client.h"

#include <cstdio>

namespace byoc::cli {
using nlohmann::json;

namespace {

ErrorKind kind_for_status(int status) {
  switch (status) {
    case 400:
      return ErrorKind::kBadRequest;
    case 401:
      return ErrorKind::kUnauthenticated;
    case 403:
      return ErrorKind::kForbidden;
    case 404:
      return ErrorKind::kNotFound;
    case 409:
      return ErrorKind::kConflict;
    case 410:
      return ErrorKind::kGone;
    case 413:
      return ErrorKind::kTooLarge;
    case 415:
      return ErrorKind::kUnsupportedMedia;
    case 422:
      return ErrorKind::kInvalid;
    case 502:
    case 503:
    case 504:
      return ErrorKind::kUnavailable;
    default:
      return status >= 400 && status < 500 ? ErrorKind::kBadRequest : ErrorKind::kInternal;
  }
}

std::string string_or_empty(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ApiClient::ApiClient(ClientConfig connection, Transport transport)
    : connection_(std::move(connection)),
      http_(http::TlsOptions{.ca_pem = connection_.ca_pem}),
      transport_(std::move(transport)) {}

json ApiClient::get(const std::string& path) { return call("GET", path, ""); }
json ApiClient::post(const std::string& path, const json& body) { return call("POST", path, body.dump()); }
json ApiClient::patch(const std::string& path, const json& body) { return call("PATCH", path, body.dump()); }
json ApiClient::put(const std::string& path, const json& body) { return call("PUT", path, body.dump()); }
json ApiClient::del(const std::string& path) { return call("DELETE", path, ""); }

json ApiClient::call(const std::string& method, const std::string& path, const std::string& body) {
  std::string text = exchange(method, path, body, "application/json");
  if (text.empty()) return json();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    throw Error::Internal("the server answered " + method + " " + path + " with something that is not JSON");
  return parsed;
}

std::string ApiClient::get_text(const std::string& path) { return exchange("GET", path, "", "text/plain"); }

std::string ApiClient::exchange(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& accept) {
  http::Request request;
  request.method = method;
  request.url = connection_.server + path;
  request.headers = {{"Authorization", "Bearer " + connection_.token}, {"Accept", accept}};
  if (method == "POST" || method == "PATCH" || method == "PUT") {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
  }
  http::Response response = transport_ ? transport_(request) : http_.send(request);
  if (response.status < 200 || response.status > 299)
    throw error_from_response(response.status, response.body, method + " " + path);
  return std::move(response.body);
}

std::string path_segment(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

Error error_from_response(int status, const std::string& body, const std::string& what) {
  ErrorKind kind = kind_for_status(status);
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const json& error = parsed["error"];
    std::string message = string_or_empty(error, "message");
    std::string code = string_or_empty(error, "code");
    if (message.empty()) message = code.empty() ? "HTTP " + std::to_string(status) : code;
    return Error(kind, code.empty() ? "http_" + std::to_string(status) : code, message,
                 string_or_empty(error, "field"));
  }
  return Error(kind, "http_" + std::to_string(status),
               "the server answered " + what + " with HTTP " + std::to_string(status));
}

}  // namespace byoc::cli
