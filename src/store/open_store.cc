// Choosing the backend from `byoc server --store`.
#include <libpq-fe.h>

#include "base/error.h"
#include "store/store.h"

namespace byoc::store {

bool is_postgres_uri(const std::string& spec) {
  return spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0;
}

std::string redacted_store_spec(const std::string& spec) {
  if (!is_postgres_uri(spec)) return spec;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(spec.c_str(), &error);
  if (!options) {
    PQfreemem(error);
    return "postgresql://(unreadable URI)";
  }
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  return "postgresql://" + (user.empty() ? "" : user + "@") + host + (port.empty() ? "" : ":" + port) + "/" + dbname;
}

std::unique_ptr<Store> open_store(const std::string& spec, const std::filesystem::path& data_dir) {
  if (spec.empty()) return open_sqlite_store(data_dir / "byoc.db");
  if (is_postgres_uri(spec)) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(spec.c_str(), &error);
    if (!options) {
      std::string message = error ? error : "unreadable";
      PQfreemem(error);
      // libpq quotes the URI, password and all: never repeat it.
      message = message.substr(0, message.find(" in URI"));
      while (!message.empty() && message.back() == '\n') message.pop_back();
      throw Error::Invalid("invalid_store", "--store is not a valid PostgreSQL URI: " + message, "store");
    }
    PQconninfoFree(options);
    return open_postgres_store(spec);
  }
  if (spec.find("://") != std::string::npos)
    throw Error::Invalid("invalid_store", "--store takes a postgresql:// URI or a SQLite file path", "store");
  return open_sqlite_store(spec);
}

}  // namespace byoc::store
