// `byoc version publish|list` and `byoc upgrade plan|status|start|pause|resume|defer`
// (docs/maintenance.md).
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct UpgradeFlags {
  std::string id;
  std::string environment;
  std::string service;  // plan/status: only this service's
  std::string organization;
  int days = 0;
  std::string format;
};

std::string upgrades_path(const UpgradeFlags& f, const std::string& tail = "") {
  return with_organization(environment_path(f.environment) + "/upgrades" + tail, f.organization);
}

std::string progress(const json& u) {
  int total = u.value("replicas_total", 0);
  if (!total) return "";
  return std::to_string(u.value("replicas_done", 0)) + "/" + std::to_string(total);
}

std::string waiting(const json& u) {
  if (u.value("state", "") == "failed" && u.contains("failed_step") && u["failed_step"].is_object()) {
    const json& s = u["failed_step"];
    return "failed at shard " + std::to_string(s.value("shard", 0)) + " replica " + std::to_string(s.value("replica", 0)) +
           ": " + s.value("check", "");
  }
  return cell(u, "waiting_for");
}

// A Kubernetes upgrade (kind eks) is the environment's cluster's, not a service's.
std::string subject(const json& u) {
  const std::string service = cell(u, "service");
  return service.empty() && u.value("kind", "") == "eks" ? "(cluster)" : service;
}

// A Kubernetes upgrade's run, one line each: where it is, what it did last,
// when it looks again, and what it left behind.
std::vector<std::pair<std::string, std::string>> cluster_details(const json& u) {
  if (!u.contains("cluster") || !u["cluster"].is_object()) return {};
  const json& c = u["cluster"];
  std::vector<std::pair<std::string, std::string>> out = {
      {"phase", cell(c, "phase")},
      {"events", std::to_string(c.value("events", 0)) +
                     (cell(c, "last_event").empty() ? "" : ", last " + cell(c, "last_event") + " at " +
                                                               cell(c, "last_event_at"))},
      {"resumes at", cell(c, "resume_at")},
      {"deadline", cell(c, "deadline")}};
  std::string groups;
  for (const auto& g : c.value("failed_node_groups", json::array()))
    groups += (groups.empty() ? "" : ", ") + g.get<std::string>();
  if (!groups.empty()) out.push_back({"failed node groups", groups});
  for (const auto& q : c.value("quarantined", json::array()))
    out.push_back({"quarantined", cell(q, "node") + ": " + cell(q, "reason")});
  return out;
}

std::string render_upgrades(const json& items) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : items)
    rows.push_back({cell(u, "id"), subject(u), cell(u, "from_version") + " -> " + cell(u, "to_version"),
                    cell(u, "state"), waiting(u), cell(u, "starts_at"), progress(u)});
  return render_table({"ID", "SERVICE", "VERSION", "STATE", "WAITING FOR", "STARTS AT", "REPLICAS"}, rows);
}

std::string render_upgrade(const json& u) {
  std::vector<std::pair<std::string, std::string>> fields = {{"id", cell(u, "id")},
                         {"service", subject(u)},
                         {"version", cell(u, "from_version") + " -> " + cell(u, "to_version")},
                         {"state", cell(u, "state")},
                         {"waiting for", waiting(u)},
                         {"available at", cell(u, "available_at")},
                         {"deferred until", cell(u, "deferred_until")},
                         {"starts at", cell(u, "starts_at")},
                         {"running until", cell(u, "running_until")},
                         {"replicas", progress(u)}};
  for (auto& field : cluster_details(u)) fields.push_back(std::move(field));
  return render_details(fields);
}

// plan: the open upgrades, when each would start; status: all of them.
void add_listing(CLI::App* upgrade, CommandSet& commands, const std::string& name, bool open_only) {
  auto f = std::make_shared<UpgradeFlags>();
  auto* sub = upgrade->add_subcommand(
      name, open_only ? "Pending and paused upgrades, and when each would start (its channel, deferral, window)"
                      : "Every upgrade of the environment, ended ones too");
  sub->add_option("--env", f->environment, "Environment name")->required();
  sub->add_option("--service", f->service, "Only this service's");
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, open_only, &io = commands.io] {
    json answer = connect(io)->get(upgrades_path(*f));
    json items = json::array();
    for (const auto& u : answer.value("items", json::array())) {
      std::string state = u.value("state", "");
      if (!f->service.empty() && u.value("service", "") != f->service) continue;
      if (open_only && state != "pending" && state != "paused" && state != "running") continue;
      items.push_back(u);
    }
    print_result(io, f->format, {{"items", items}}, [](const json& v) { return render_upgrades(v["items"]); });
    return 0;
  });
}

void add_action(CLI::App* upgrade, CommandSet& commands, const std::string& action, const std::string& help) {
  auto f = std::make_shared<UpgradeFlags>();
  auto* sub = upgrade->add_subcommand(action, help);
  sub->add_option("ID", f->id, "Upgrade id (upg-…), as `byoc upgrade plan` lists it")->required();
  sub->add_option("--env", f->environment, "Environment name")->required();
  if (action == "defer")
    sub->add_option("--days", f->days, "Days past its channel's day (1-14; once per upgrade)")
        ->required()
        ->check(CLI::Range(1, 14));
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, action, &io = commands.io] {
    json body = action == "defer" ? json{{"days", f->days}} : json::object();
    json u = connect(io)->post(upgrades_path(*f, "/" + path_segment(f->id) + "/" + action), body);
    print_result(io, f->format, u, render_upgrade);
    return 0;
  });
}

void add_version_commands(CLI::App& app, CommandSet& commands) {
  auto* version = app.add_subcommand("version", "Versions published to the management plane (admins publish)");
  version->require_subcommand(1);
  struct Publish {
    std::string name, kind = "clickhouse", published_at, format;
  };
  auto p = std::make_shared<Publish>();
  auto* publish = version->add_subcommand(
      "publish", "Publish a version: services upgrade to it after their channel's delay, in their windows");
  publish->add_option("NAME", p->name, "Version name, as the agents' versions.json names it")->required();
  publish->add_option("--kind", p->kind, "clickhouse or eks")->check(CLI::IsMember({"clickhouse", "eks"}));
  publish->add_option("--published-at", p->published_at, "RFC 3339 (default: now; never ahead)");
  add_output_option(publish, p->format);
  on_run(publish, commands, [p, &io = commands.io] {
    json body = {{"kind", p->kind}, {"name", p->name}};
    if (!p->published_at.empty()) body["published_at"] = p->published_at;
    json v = connect(io)->post("/v1/versions", body);
    print_result(io, p->format, v, [](const json& value) {
      return render_details({{"kind", cell(value, "kind")},
                             {"name", cell(value, "name")},
                             {"published at", cell(value, "published_at")},
                             {"published by", cell(value, "published_by")}});
    });
    return 0;
  });
  auto list_format = std::make_shared<std::string>();
  auto* list = version->add_subcommand("list", "Published versions, oldest first");
  add_output_option(list, *list_format);
  on_run(list, commands, [list_format, &io = commands.io] {
    json answer = connect(io)->get("/v1/versions");
    print_result(io, *list_format, answer, [](const json& v) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& item : v.value("items", json::array()))
        rows.push_back({cell(item, "kind"), cell(item, "name"), cell(item, "published_at"), cell(item, "published_by")});
      return render_table({"KIND", "NAME", "PUBLISHED", "BY"}, rows);
    });
    return 0;
  });
}

}  // namespace

void add_upgrade_commands(CLI::App& app, CommandSet& commands) {
  add_version_commands(app, commands);
  auto* upgrade = app.add_subcommand("upgrade", "Upgrades of services: when they run, and moving them");
  upgrade->require_subcommand(1);
  add_listing(upgrade, commands, "plan", true);
  add_listing(upgrade, commands, "status", false);
  add_action(upgrade, commands, "start", "Start it without waiting for its channel's day (its window still applies)");
  add_action(upgrade, commands, "pause", "Pause it (a running one stops after the replica step in progress)");
  add_action(upgrade, commands, "resume", "Resume a paused upgrade");
  add_action(upgrade, commands, "defer", "Defer a pending upgrade by up to 14 days, once");
}

}  // namespace byoc::cli
