#include "server/http.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/log.h"

namespace byoc::server {

std::string HttpRequest::header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? "" : it->second;
}

const Principal& HttpRequest::caller() const {
  if (!trace || !trace->caller || !trace->organization) throw Error::Internal("request " + path + " was not admitted");
  return *trace->caller;
}

const std::string& HttpRequest::organization() const {
  caller();
  return *trace->organization;
}

HttpResponse HttpResponse::json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  // A message may quote client input: bytes that are not UTF-8 are replaced
  // rather than failing the answer.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse internal_error_response(const HttpRequest* request, const std::string& what) {
  std::string id = request && request->trace ? request->trace->request_id : "";
  spdlog::error("request {}: unexpected failure: {}", id.empty() ? "-" : id, what);
  // The text never reaches the client: it may hold paths or SQL.
  return HttpResponse::json(500, {{"error",
                                   {{"code", "internal"},
                                    {"message", id.empty() ? "internal error" : "internal error (request " + id + ")"},
                                    {"field", ""},
                                    {"request_id", id}}}});
}

HttpResponse error_response(const std::exception& e, const HttpRequest* request) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) {
    if (err->kind() != ErrorKind::kInternal)
      return HttpResponse::json(err->http_status(),
                                {{"error", {{"code", err->code()}, {"message", err->what()}, {"field", err->field()}}}});
  }
  return internal_error_response(request, e.what());
}

}  // namespace byoc::server
