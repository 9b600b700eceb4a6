#include "server/http.h"

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::server {

std::string HttpRequest::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

HttpResponse error_response(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) {
    return HttpResponse::json(err->http_status(),
                              {{"error", {{"code", err->code()}, {"message", err->what()}, {"field", err->field()}}}});
  }
  // Unknown failures never leak their text: it may hold paths or SQL.
  return HttpResponse::json(500, {{"error", {{"code", "internal"}, {"message", "internal error"}, {"field", ""}}}});
}

}  // namespace byoc::server
