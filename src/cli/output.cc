#include "cli/output.h"

#include <algorithm>
#include <cstdio>

#include "base/error.h"

namespace byoc::cli {
using nlohmann::json;

namespace {


std::string indent(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += prefix + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string percent(const json& operation) {
  auto it = operation.find("progress");
  if (it == operation.end() || !it->is_number()) return "";
  double value = std::clamp(it->get<double>(), 0.0, 1.0);
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%.0f%%", value * 100.0);
  return buffer;
}

const json& items_of(const json& list) {
  static const json kEmpty = json::array();
  if (list.is_array()) return list;
  if (list.is_object()) {
    auto it = list.find("items");
    if (it != list.end() && it->is_array()) return *it;
  }
  return kEmpty;
}

// "1930m/6826Mi" for a {"cpu_millis","memory_mib"} object; "" if absent.
std::string resources(const json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_object()) return "";
  std::string cpu = cell(object[key], "cpu_millis"), memory = cell(object[key], "memory_mib");
  if (cpu.empty() && memory.empty()) return "";
  return (cpu.empty() ? "?" : cpu) + "m/" + (memory.empty() ? "?" : memory) + "Mi";
}

std::string price(const json& profile) {
  auto it = profile.is_object() ? profile.find("price_per_hour") : profile.end();
  if (!profile.is_object() || it == profile.end() || !it->is_number() || it->get<double>() <= 0) return "-";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4f", it->get<double>());
  return buffer;
}

std::string fold_newlines(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

OutputFormat parse_output_format(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  throw Error::Invalid("bad_output", "output format must be table or json, got `" + std::string(text) + "`",
                       "output");
}

std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  };
  measure(headers);
  for (const auto& row : rows) measure(row);
  auto line = [&](const std::vector<std::string>& row) {
    std::string out;
    for (size_t i = 0; i < widths.size(); ++i) {
      std::string value = i < row.size() ? row[i] : "";
      out += value;
      if (i + 1 < widths.size()) out += std::string(widths[i] - value.size() + 3, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::string cell(const json& object, const std::string& key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array()) {
    std::string out;
    for (const auto& element : *it) {
      if (!out.empty()) out += ",";
      out += element.is_string() ? element.get<std::string>() : element.dump();
    }
    return out;
  }
  return it->dump();
}

std::string render_environment_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& env : items_of(items))
    rows.push_back({cell(env, "name"), cell(env, "cloud"), cell(env, "region"), cell(env, "cidr"),
                    cell(env, "zones"), cell(env, "state"), cell(env, "created_at")});
  return render_table({"NAME", "CLOUD", "REGION", "CIDR", "ZONES", "STATE", "CREATED"}, rows);
}

std::string render_environment(const json& env) {
  std::vector<std::pair<std::string, std::string>> fields = {{"name", cell(env, "name")},
                                                             {"id", cell(env, "id")},
                                                             {"organization", cell(env, "organization")},
                                                             {"cloud", cell(env, "cloud")},
                                                             {"region", cell(env, "region")},
                                                             {"cidr", cell(env, "cidr")},
                                                             {"zones", cell(env, "zones")}};
  std::string types = cell(env, "instance_types");
  std::string daemonsets = resources(env, "daemonsets");
  bool catalogue = cell(env, "profiles_from") == "catalogue";  // sized by instance types
  if (catalogue || !types.empty())
    fields.emplace_back("instance_types", types.empty() ? "(all in the catalogue)" : types);
  if (catalogue || (!daemonsets.empty() && daemonsets != "0m/0Mi")) fields.emplace_back("daemonsets", daemonsets);
  fields.emplace_back("state", cell(env, "state"));
  // The customer's account as onboarding has it (aws): what they need to let the plane in.
  if (env.is_object() && env.contains("account") && env["account"].is_object())
    for (const auto& [key, value] : env["account"].items())
      if (value.is_string()) fields.emplace_back(key, value.get<std::string>());
  if (!cell(env, "reason").empty()) fields.emplace_back("reason", cell(env, "reason"));
  if (!cell(env, "message").empty()) fields.emplace_back("message", cell(env, "message"));
  fields.emplace_back("revision", cell(env, "revision"));
  fields.emplace_back("created", cell(env, "created_at"));
  fields.emplace_back("updated", cell(env, "updated_at"));
  std::string out = render_details(fields);
  auto conditions = env.is_object() ? env.find("conditions") : env.end();
  if (env.is_object() && conditions != env.end() && conditions->is_array() && !conditions->empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : *conditions)
      rows.push_back(
          {cell(c, "type"), cell(c, "status"), cell(c, "reason"), cell(c, "last_transition_time")});
    out += "conditions:\n" + indent(render_table({"TYPE", "STATUS", "REASON", "SINCE"}, rows), "  ");
  }
  return out;
}

std::string render_access_check(const json& check) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"environment", cell(check, "environment")},
      {"granted", cell(check, "granted")},
      {"state", cell(check, "state")}};
  if (!cell(check, "reason").empty()) fields.emplace_back("reason", cell(check, "reason"));
  if (!cell(check, "message").empty()) fields.emplace_back("message", cell(check, "message"));
  std::string out = render_details(fields);
  const json details = check.is_object() ? check.value("details", json::object()) : json::object();
  const json findings = details.is_object() ? details.value("findings", json::array()) : json::array();
  if (findings.is_array() && !findings.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : findings) rows.push_back({cell(f, "code"), cell(f, "subject"), cell(f, "message")});
    out += "findings:\n" + indent(render_table({"CODE", "SUBJECT", "WHAT TO DO"}, rows), "  ");
  }
  return out;
}

std::string render_service_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& svc : items_of(items))
    rows.push_back({cell(svc, "environment"), cell(svc, "name"), cell(svc, "clickhouse_version"),
                    cell(svc, "shards"), cell(svc, "replicas"), cell(svc, "state"), cell(svc, "endpoint")});
  return render_table({"ENVIRONMENT", "NAME", "VERSION", "SHARDS", "REPLICAS", "STATE", "ENDPOINT"}, rows);
}

std::string render_service(const json& svc) {
  std::vector<std::pair<std::string, std::string>> fields = {{"name", cell(svc, "name")},
                                                             {"id", cell(svc, "id")},
                                                             {"environment", cell(svc, "environment")},
                                                             {"version", cell(svc, "clickhouse_version")},
                                                             {"shards", cell(svc, "shards")},
                                                             {"replicas", cell(svc, "replicas")},
                                                             {"cpu_millis", cell(svc, "cpu_millis")},
                                                             {"memory_mib", cell(svc, "memory_mib")},
                                                             {"allowed_ips", cell(svc, "allowed_ips")},
                                                             {"state", cell(svc, "state")},
                                                             {"reason", cell(svc, "reason")},
                                                             {"endpoint", cell(svc, "endpoint")}};
  // Newer fields: shown only when the service has them, so older answers read as before.
  if (!cell(svc, "native_endpoint").empty())
    fields.emplace_back("native_endpoint", cell(svc, "native_endpoint"));
  if (!cell(svc, "support_gateway").empty())
    fields.emplace_back("support_gateway", cell(svc, "support_gateway"));
  if (!cell(svc, "profile").empty()) fields.emplace_back("profile", cell(svc, "profile"));
  fields.emplace_back("created", cell(svc, "created_at"));
  fields.emplace_back("updated", cell(svc, "updated_at"));
  if (!cell(svc, "password").empty()) {
    fields.emplace_back("user", "default");
    fields.emplace_back("password", cell(svc, "password") + "   (shown only once: save it now)");
  }
  return render_details(fields);
}

std::string render_profile_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : items_of(items))
    rows.push_back({cell(p, "name"), cell(p, "instance_type"), price(p), resources(p, "allocatable"),
                    resources(p, "requests"), cell(p, "ssd_cache_gib"), cell(p, "node_group")});
  return render_table(
      {"NAME", "INSTANCE TYPE", "$/H", "ALLOCATABLE", "REQUESTS", "SSD CACHE GIB", "NODE GROUP"}, rows);
}

std::string render_cloud_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : items_of(items)) {
    std::string regions;
    if (c.is_object() && c.contains("regions") && c["regions"].is_array())
      for (const auto& r : c["regions"]) regions += (regions.empty() ? "" : ",") + cell(r, "name");
    rows.push_back({cell(c, "name"), regions, cell(c, "default_region"), cell(c, "capacity"), cell(c, "summary")});
  }
  return render_table({"NAME", "REGIONS", "DEFAULT REGION", "PROFILES FROM", "SUMMARY"}, rows);
}

std::string render_token(const json& token) {
  std::vector<std::pair<std::string, std::string>> fields = {{"id", cell(token, "id")},
                                                             {"role", cell(token, "role")},
                                                             {"organization", cell(token, "organization")},
                                                             {"created", cell(token, "created_at")}};
  if (!cell(token, "subject").empty()) fields.insert(fields.begin() + 3, {"subject", cell(token, "subject")});
  if (!cell(token, "token").empty())
    fields.emplace_back("token", cell(token, "token") + "   (shown only once: save it now)");
  return render_details(fields);
}

std::string render_token_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : items_of(items))
    rows.push_back({cell(t, "id"), cell(t, "role"), cell(t, "organization"), cell(t, "subject"), cell(t, "created_at")});
  return render_table({"ID", "ROLE", "ORGANIZATION", "SUBJECT", "CREATED"}, rows);
}

std::string render_server_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : items_of(items)) {
    std::string url = cell(s, "url").empty() ? "(not advertised)" : cell(s, "url");
    rows.push_back({cell(s, "id") + (s.value("answering", false) ? " *" : ""), url, cell(s, "started_at"),
                    cell(s, "heartbeat_at")});
  }
  return render_table({"ID (* answering)", "URL", "STARTED", "HEARTBEAT"}, rows);
}

std::string render_organization(const json& organization) {
  return render_details(
      {{"name", cell(organization, "name")}, {"created", cell(organization, "created_at")}});
}

std::string render_organization_list(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& o : items_of(items)) rows.push_back({cell(o, "name"), cell(o, "created_at")});
  return render_table({"NAME", "CREATED"}, rows);
}

std::string render_operation(const json& op) {
  std::string target = cell(op, "service").empty() ? cell(op, "environment")
                                                   : cell(op, "environment") + "/" + cell(op, "service");
  std::vector<std::pair<std::string, std::string>> fields = {{"id", cell(op, "id")},
                                                             {"kind", cell(op, "kind")},
                                                             {"target", target},
                                                             {"status", cell(op, "status")},
                                                             {"progress", percent(op)},
                                                             {"created", cell(op, "created_at")},
                                                             {"updated", cell(op, "updated_at")}};
  if (op.is_object() && op.contains("error") && op["error"].is_object())
    fields.emplace_back("error", cell(op["error"], "code") + ": " + cell(op["error"], "message"));
  if (!cell(op, "password").empty()) {
    fields.emplace_back("user", "default");
    fields.emplace_back("password", cell(op, "password") + "   (shown only once: save it now)");
  }
  std::string out = render_details(fields);
  auto steps = op.is_object() ? op.find("steps") : op.end();
  if (op.is_object() && steps != op.end() && steps->is_array() && !steps->empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& step : *steps) rows.push_back({cell(step, "name"), cell(step, "state")});
    out += "steps:\n" + indent(render_table({"STEP", "STATE"}, rows), "  ");
  }
  return out;
}

std::string render_json(const json& value) { return value.dump(2) + "\n"; }

std::string error_line(std::string_view message, std::string_view field) {
  std::string line = "error: " + fold_newlines(message);
  if (!field.empty()) line += " (field: " + fold_newlines(field) + ")";
  return line;
}

std::string error_line(const std::exception& error) {
  if (const auto* e = dynamic_cast<const Error*>(&error)) return error_line(e->what(), e->field());
  return error_line(error.what());
}

std::string render_details(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size());
  std::string out;
  for (const auto& [key, value] : fields) {
    out += key + ":";
    if (!value.empty()) out += std::string(width - key.size() + 1, ' ') + value;
    out += "\n";
  }
  return out;
}

}  // namespace byoc::cli
