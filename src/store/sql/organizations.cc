// SqlOrganizations over the table organizations.
#include "store/sql/repositories.h"

namespace byoc::store::sql {

std::optional<Organization> SqlOrganizations::by_name(const std::string& name) {
  Statement st(session_, "SELECT name, created_at FROM organizations WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return Organization{st.text(0), st.integer(1)};
}

std::vector<Organization> SqlOrganizations::list() {
  Statement st(session_, "SELECT name, created_at FROM organizations ORDER BY name");
  std::vector<Organization> out;
  while (st.step()) out.push_back({st.text(0), st.integer(1)});
  return out;
}

void SqlOrganizations::put(const Organization& o) {
  Statement(session_, "INSERT INTO organizations (name, created_at) VALUES (?, ?)").bind(1, o.name).bind(2, o.created_at).run();
}

}  // namespace byoc::store::sql
