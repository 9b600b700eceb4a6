// Router: maps (method, path pattern) to routes. Patterns use `{name}` for
// one path segment, which the router puts in HttpRequest::params. An unknown
// path is 404, a known path with another method 405. Each route carries its
// RouteSpec (action, who may call, effect), which the dispatcher acts on.
#pragma once

#include <string>
#include <vector>

#include "server/http.h"
#include "server/route_spec.h"

namespace byoc::server {

class Router {
 public:
  struct Route {
    RouteSpec spec;
    std::vector<std::string> segments;
    Handler handler;
  };

  // Throws byoc::Error (internal) for a second route with the same method
  // and pattern or the same action name: each is what the audit log names.
  void add(RouteSpec spec, Handler handler);
  // Fills request.params and request.route and returns the route; throws byoc::Error 404/405.
  const Route& match(HttpRequest& request) const;
  // Every route registered, in registration order, for documentation checks.
  std::vector<RouteSpec> routes() const;

 private:
  std::vector<Route> routes_;
};

}  // namespace byoc::server
