// Authentication of API callers by bearer token. Every failure is the same
// 401 so a caller learns nothing about which part was wrong.
#pragma once

#include <string>

#include "server/http.h"
#include "store/store.h"

namespace byoc::server {

struct Principal {
  std::string token_id;
  std::string role;
  std::string organization;
};

// Throws byoc::Error 401 unless `Authorization: Bearer <token>` names a live
// token whose secret matches (compared in constant time).
Principal authenticate(store::Transaction& tx, const HttpRequest& request);

}  // namespace byoc::server
