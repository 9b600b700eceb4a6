#include "plan/upgrade/upgrade_record.h"

#include "base/error.h"

namespace byoc::plan::upgrade {

using nlohmann::json;

json to_json(const UpgradeRecord& r) {
  json groups = json::object();
  for (const auto& [name, g] : r.groups) {
    groups[name] = {{"replacement", g.replacement},   {"instance_types", g.instance_types},
                    {"desired_size", g.desired_size}, {"labels", g.labels},
                    {"attempts", g.attempts},         {"failed_attempts", g.failed_attempts},
                    {"ready_seen", g.ready_seen},     {"gave_up", g.gave_up},
                    {"kept", g.kept}};
  }
  return {{"run_id", r.run_id},
          {"started", r.started},
          {"intent", r.intent},
          {"control_plane_sent", r.control_plane_sent},
          {"addons_sent", r.addons_sent},
          {"groups", groups},
          {"evicted_at", r.evicted_at},
          {"blocked_since", r.blocked_since},
          {"quarantined", r.quarantined},
          {"done", r.done}};
}

UpgradeRecord upgrade_record_from_json(const json& j) {
  try {
    UpgradeRecord r;
    r.run_id = j.at("run_id").get<std::string>();
    r.started = j.at("started").get<bool>();
    r.intent = j.at("intent").get<std::string>();
    r.control_plane_sent = j.at("control_plane_sent").get<std::set<std::string>>();
    r.addons_sent = j.at("addons_sent").get<std::set<std::string>>();
    for (const auto& [name, g] : j.at("groups").items()) {
      GroupRecord rec;
      rec.replacement = g.at("replacement").get<std::string>();
      rec.instance_types = g.at("instance_types").get<std::vector<std::string>>();
      rec.desired_size = g.at("desired_size").get<int>();
      rec.labels = g.at("labels").get<std::map<std::string, std::string>>();
      rec.attempts = g.at("attempts").get<int>();
      rec.failed_attempts = g.at("failed_attempts").get<int>();
      rec.ready_seen = g.at("ready_seen").get<bool>();
      rec.gave_up = g.at("gave_up").get<bool>();
      rec.kept = g.at("kept").get<bool>();
      r.groups[name] = std::move(rec);
    }
    r.evicted_at = j.at("evicted_at").get<std::map<std::string, int64_t>>();
    r.blocked_since = j.at("blocked_since").get<std::map<std::string, int64_t>>();
    r.quarantined = j.at("quarantined").get<std::map<std::string, std::string>>();
    r.done = j.at("done").get<bool>();
    return r;
  } catch (const json::exception& e) {
    throw Error::Invalid("invalid_journal", std::string("the upgrade journal is not one of ours: ") + e.what(),
                         "journal");
  }
}

}  // namespace byoc::plan::upgrade
