// Principal: who an API request comes from, as its verified bearer token says.
#pragma once

#include <string>

namespace byoc::server {

struct Principal {
  std::string token_id;
  std::string role;
  std::string organization;  // the token's own organisation
  std::string subject;       // who holds the token (required for vendor roles)
};

}  // namespace byoc::server
