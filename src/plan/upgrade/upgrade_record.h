// UpgradeRecord: what the upgrader persists through its journal — only what
// it can't observe again: which requests it has sent (so a resumed run sends
// the same idempotency token, never a second create), its timers, the nodes it
// quarantined. Everything else (versions, node groups, nodes, pods, budgets)
// is observed afresh at every step.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace byoc::plan::upgrade {

// One old managed node group and its replacement.
struct GroupRecord {
  std::string replacement;  // the new group's name, fixed when the run starts
  std::vector<std::string> instance_types;
  int desired_size = 0;
  std::map<std::string, std::string> labels;
  int attempts = 0;         // CreateNodegroup requests recorded (each its own token)
  int failed_attempts = 0;  // of those, seen CREATE_FAILED
  bool ready_seen = false;  // the replacement's nodes have all been Ready
  bool gave_up = false;     // creation failed too often: the old group is left as it is
  bool kept = false;        // drained but for quarantined nodes: not deleted
};

struct UpgradeRecord {
  std::string run_id;
  bool started = false;  // old groups captured
  std::string intent;    // the step about to act (for a reader of the journal)
  std::set<std::string> control_plane_sent;  // versions UpdateClusterVersion was sent for
  std::set<std::string> addons_sent;         // addons UpdateAddon was sent for
  std::map<std::string, GroupRecord> groups;  // by old group name
  std::map<std::string, int64_t> evicted_at;     // pod → unix seconds of its eviction
  std::map<std::string, int64_t> blocked_since;  // pod → since when a budget refuses it while all are healthy
  std::map<std::string, std::string> quarantined;  // node → reason
  bool done = false;
};

nlohmann::json to_json(const UpgradeRecord& r);
// Throws Error::Invalid on a record this code did not write.
UpgradeRecord upgrade_record_from_json(const nlohmann::json& j);

}  // namespace byoc::plan::upgrade
