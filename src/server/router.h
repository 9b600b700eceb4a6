// Router: maps (method, path pattern) to handlers. Patterns use `{name}` for
// one path segment, which the router puts in HttpRequest::params. An unknown
// path is 404, a known path with another method 405.
#pragma once

#include <string>
#include <vector>

#include "server/http.h"

namespace byoc::server {

class Router {
 public:
  void add(const std::string& method, const std::string& pattern, Handler handler);
  // Fills request.params and returns the handler; throws byoc::Error 404/405.
  const Handler& match(HttpRequest& request) const;
  // Every (method, pattern) registered, for documentation checks.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace byoc::server
