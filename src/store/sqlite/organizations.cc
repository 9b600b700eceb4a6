// SqliteOrganizations over the table organizations.
#include "store/sqlite/repositories.h"

namespace byoc::store::sqlite {

std::optional<Organization> SqliteOrganizations::by_name(const std::string& name) {
  Statement st(cache_, "SELECT name, created_at FROM organizations WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return Organization{st.text(0), st.integer(1)};
}

std::vector<Organization> SqliteOrganizations::list() {
  Statement st(cache_, "SELECT name, created_at FROM organizations ORDER BY name");
  std::vector<Organization> out;
  while (st.step()) out.push_back({st.text(0), st.integer(1)});
  return out;
}

void SqliteOrganizations::put(const Organization& o) {
  Statement(cache_, "INSERT INTO organizations VALUES (?, ?)").bind(1, o.name).bind(2, o.created_at).run();
}

}  // namespace byoc::store::sqlite
