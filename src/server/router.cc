#include "server/router.h"

#include "base/error.h"

namespace byoc::server {
namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

void Router::add(RouteSpec spec, Handler handler) {
  for (const auto& route : routes_) {
    if (route.spec.method == spec.method && route.spec.pattern == spec.pattern)
      throw Error::Internal("route " + spec.method + " " + spec.pattern + " registered twice");
    if (route.spec.action == spec.action)
      throw Error::Internal("action " + spec.action + " names two routes");
  }
  if (spec.action.empty()) throw Error::Internal("route " + spec.method + " " + spec.pattern + " has no action name");
  auto segments = split_path(spec.pattern);
  routes_.push_back({std::move(spec), std::move(segments), std::move(handler)});
}

const Router::Route& Router::match(HttpRequest& request) const {
  auto segments = split_path(request.path);
  bool path_known = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const auto& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        if (segments[i].empty()) ok = false;
        params[want.substr(1, want.size() - 2)] = segments[i];
      } else {
        ok = want == segments[i];
      }
    }
    if (!ok) continue;
    path_known = true;
    if (route.spec.method != request.method) continue;
    request.params = std::move(params);
    request.route = route.spec.pattern;
    return route;
  }
  if (path_known) throw Error(ErrorKind::kMethodNotAllowed, "method_not_allowed", "method not allowed on this path");
  throw Error::NotFound("no such route");
}

std::vector<RouteSpec> Router::routes() const {
  std::vector<RouteSpec> out;
  for (const auto& r : routes_) out.push_back(r.spec);
  return out;
}

}  // namespace byoc::server
