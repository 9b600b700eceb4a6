#include <charconv>
#include <set>

#include "base/clock.h"
#include "base/error.h"
#include "plan/json_fields.h"
#include "plan/maintenance_window_json.h"
#include "plan/upgrade/fleet.h"

namespace byoc::plan::upgrade {

namespace {

using nlohmann::json;

const json& bounded_array(const json& obj, const char* key, std::size_t limit, bool required) {
  static const json kEmpty = json::array();
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) throw Error::Invalid("missing_field", std::string(key) + " is required", key);
    return kEmpty;
  }
  if (!it->is_array()) throw Error::Invalid("invalid_type", std::string(key) + " must be an array", key);
  if (it->size() > limit) {
    throw Error::Invalid("too_many", std::string(key) + " has at most " + std::to_string(limit) + " entries", key);
  }
  return *it;
}

// Each entry of `list` (the array `key`): an object of only `fields`, handed to `f` with its path ("pods[3]").
template <class F>
void each_entry(const json& list, const char* key, std::initializer_list<const char*> fields, F&& f) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string where = std::string(key) + "[" + std::to_string(i) + "]";
    const json& entry = require_object(list[i], where);
    only_fields(entry, where, fields);
    f(entry, where);
  }
}

// The entry's "name", which no earlier entry of its list has.
std::string distinct_name(const json& entry, const std::string& where, std::set<std::string>& names) {
  std::string name = get_string(entry, "name", where + ".name");
  if (!names.insert(name).second) {
    throw Error::Invalid("duplicate_value", where + ".name repeats '" + name + "'", where + ".name");
  }
  return name;
}

// A shard is a non-negative integer or a string, as in the placement input.
std::string shard_of(const json& obj, const std::string& field) {
  auto it = obj.find("shard");
  if (it == obj.end()) return "";
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return std::to_string(it->get<int64_t>());
  if (it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  throw Error::Invalid("invalid_type", field + " must be a non-negative integer or a string", field);
}

void parse_groups(const json& j, Fleet& f, std::set<std::string>& nodes) {
  const json& groups = bounded_array(j, "node_groups", kMaxNodeGroups, true);
  if (groups.empty()) throw Error::Invalid("invalid_value", "node_groups can't be empty", "node_groups");
  std::set<std::string> names;
  each_entry(groups, "node_groups", {"name", "version", "nodes", "instance_type"}, [&](const json& g,
                                                                                       const std::string& w) {
    FleetNodeGroup group;
    group.name = distinct_name(g, w, names);
    group.version = get_string(g, "version", w + ".version");
    int minor = minor_of(group.version, w + ".version");
    if (minor > minor_of(f.cluster_version, "cluster.version")) {
      throw Error::Invalid("invalid_version", w + ".version is newer than the control plane", w + ".version");
    }
    if (minor_of(f.target_version, "cluster.target_version") - minor > kMaxVersionSkew) {
      throw Error::Invalid("invalid_version", w + ".version is more than 3 minors behind the target", w + ".version");
    }
    int64_t count = get_count(g, "nodes", w + ".nodes", true, 0, true);
    if (count > static_cast<int64_t>(kMaxNodesPerGroup)) {
      throw Error::Invalid("out_of_range", w + ".nodes is at most " + std::to_string(kMaxNodesPerGroup), w + ".nodes");
    }
    group.nodes = static_cast<int>(count);
    group.instance_type = get_string(g, "instance_type", w + ".instance_type");
    for (int n = 0; n < group.nodes; ++n) nodes.insert(group.name + "-" + std::to_string(n));
    if (nodes.size() > kMaxNodes) {
      throw Error::Invalid("too_many", "node_groups have at most " + std::to_string(kMaxNodes) + " nodes in all",
                           w + ".nodes");
    }
    f.node_groups.push_back(std::move(group));
  });
}

void parse_pods(const json& j, Fleet& f, const std::set<std::string>& nodes) {
  const json& pods = bounded_array(j, "pods", kMaxPods, true);
  std::set<std::string> names;
  each_entry(pods, "pods", {"name", "service", "shard", "node", "drain_minutes", "kind"}, [&](const json& p,
                                                                                               const std::string& w) {
    FleetPod pod;
    pod.name = distinct_name(p, w, names);
    pod.service = get_string(p, "service", w + ".service");
    pod.shard = shard_of(p, w + ".shard");
    pod.node = get_string(p, "node", w + ".node");
    if (!nodes.contains(pod.node)) {
      throw Error::Invalid("unknown_node", w + ".node '" + pod.node + "' is no node of node_groups", w + ".node");
    }
    std::string kind = p.contains("kind") ? get_string(p, "kind", w + ".kind") : "clickhouse";
    if (kind != "clickhouse" && kind != "system") {
      throw Error::Invalid("invalid_value", w + ".kind must be \"clickhouse\" or \"system\"", w + ".kind");
    }
    pod.clickhouse = kind == "clickhouse";
    pod.drain = std::chrono::minutes{get_count(p, "drain_minutes", w + ".drain_minutes", false, 1, false)};
    if (pod.drain > kMaxDrain) throw Error::Invalid("out_of_range", w + ".drain_minutes is at most 1440", w + ".drain_minutes");
    if (pod.clickhouse && !f.windows.contains(pod.service)) {
      throw Error::Invalid("missing_window", w + ".service '" + pod.service + "' has no entry in windows",
                           w + ".service");
    }
    f.pods.push_back(std::move(pod));
  });
}

void parse_pdbs(const json& j, Fleet& f) {
  const json& pdbs = bounded_array(j, "pdbs", kMaxPdbs, false);
  std::set<std::string> names;
  each_entry(pdbs, "pdbs", {"name", "service", "shard", "max_unavailable"}, [&](const json& p, const std::string& w) {
    FleetPdb pdb;
    pdb.name = distinct_name(p, w, names);
    pdb.service = get_string(p, "service", w + ".service");
    pdb.shard = shard_of(p, w + ".shard");
    pdb.max_unavailable = static_cast<int>(get_count(p, "max_unavailable", w + ".max_unavailable", false, 1, false));
    std::size_t selected = 0;
    for (const FleetPod& pod : f.pods) {
      selected += pod.service == pdb.service && (pdb.shard.empty() || pod.shard == pdb.shard);
    }
    if (selected > kMaxPodsPerPdb) {
      throw Error::Invalid("too_many", w + " selects more than " + std::to_string(kMaxPodsPerPdb) + " pods", w);
    }
    f.pdbs.push_back(std::move(pdb));
  });
}

void parse_addons(const json& j, Fleet& f) {
  const json& addons = bounded_array(j, "addons", kMaxAddons, false);
  std::set<std::string> names;
  each_entry(addons, "addons", {"name", "version", "target_version"}, [&](const json& a, const std::string& w) {
    std::string name = distinct_name(a, w, names);
    f.addons.push_back({name, get_string(a, "version", w + ".version"),
                        get_string(a, "target_version", w + ".target_version")});
  });
}

void parse_faults(const json& j, Fleet& f) {
  if (!j.contains("faults")) return;
  const json& faults = require_object(j["faults"], "faults");
  only_fields(faults, "faults", {"throttle_percent", "create_failures", "stuck_pods"});
  f.faults.throttle_percent = static_cast<int>(get_count(faults, "throttle_percent", "faults.throttle_percent", false, 0, false));
  if (f.faults.throttle_percent > 50) {
    throw Error::Invalid("out_of_range", "faults.throttle_percent is at most 50", "faults.throttle_percent");
  }
  if (faults.contains("create_failures")) {
    const json& failures = require_object(faults["create_failures"], "faults.create_failures");
    for (auto it = failures.begin(); it != failures.end(); ++it) {
      std::string w = "faults.create_failures." + it.key();
      bool known = false;
      for (const auto& g : f.node_groups) known = known || g.name == it.key();
      if (!known) throw Error::Invalid("unknown_node_group", w + " names no node group", w);
      int64_t n = get_count(failures, it.key().c_str(), w, false, 0, true);
      if (n > 5) throw Error::Invalid("out_of_range", w + " is at most 5", w);
      f.faults.create_failures[it.key()] = static_cast<int>(n);
    }
  }
  f.faults.stuck_pods = get_string_list(faults, "stuck_pods", "faults.stuck_pods", false, true);
  for (std::size_t i = 0; i < f.faults.stuck_pods.size(); ++i) {
    bool known = false;
    for (const auto& p : f.pods) known = known || p.name == f.faults.stuck_pods[i];
    std::string w = "faults.stuck_pods[" + std::to_string(i) + "]";
    if (!known) throw Error::Invalid("unknown_pod", w + " names no pod", w);
  }
}

}  // namespace

int minor_of(const std::string& version, const std::string& field) {
  int minor = -1;
  bool ok = version.size() > 2 && version.compare(0, 2, "1.") == 0;
  if (ok) {
    auto [end, ec] = std::from_chars(version.data() + 2, version.data() + version.size(), minor);
    ok = ec == std::errc{} && end == version.data() + version.size() && minor >= 0 && minor < 100;
  }
  if (!ok) throw Error::Invalid("invalid_version", field + " must be a Kubernetes version 1.N, not '" + version + "'", field);
  return minor;
}

std::string version_of_minor(int minor) { return "1." + std::to_string(minor); }

Fleet fleet_from_json(const json& j) {
  require_object(j, "");
  only_fields(j, "", {"start", "cluster", "node_groups", "pods", "pdbs", "addons", "windows",
                      "eviction_timeout_minutes", "max_run_days", "faults"});
  Fleet f;
  std::string start = get_string(j, "start", "start");
  auto t = parse_rfc3339(start);
  if (!t) throw Error::Invalid("invalid_time", "start must be RFC 3339 UTC (2026-12-08T09:00:00Z)", "start");
  f.start = Instant{std::chrono::seconds{*t}};
  if (!j.contains("cluster")) throw Error::Invalid("missing_field", "cluster is required", "cluster");
  const json& c = require_object(j["cluster"], "cluster");
  only_fields(c, "cluster", {"name", "version", "target_version"});
  f.cluster_name = get_string(c, "name", "cluster.name");
  f.cluster_version = get_string(c, "version", "cluster.version");
  f.target_version = get_string(c, "target_version", "cluster.target_version");
  int from = minor_of(f.cluster_version, "cluster.version");
  int to = minor_of(f.target_version, "cluster.target_version");
  if (to < from || to - from > kMaxVersionSkew) {
    throw Error::Invalid("invalid_version", "cluster.target_version must be 0 to 3 minors after cluster.version",
                         "cluster.target_version");
  }
  if (j.contains("windows")) {
    const json& windows = require_object(j["windows"], "windows");
    if (windows.size() > kMaxPdbs) throw Error::Invalid("too_many", "windows has too many services", "windows");
    for (auto it = windows.begin(); it != windows.end(); ++it) {
      f.windows[it.key()] = maintenance_window_from_json(it.value(), "windows." + it.key());
    }
  }
  std::set<std::string> nodes;
  parse_groups(j, f, nodes);
  parse_pods(j, f, nodes);
  parse_pdbs(j, f);
  parse_addons(j, f);
  f.eviction_timeout = std::chrono::minutes{
      get_count(j, "eviction_timeout_minutes", "eviction_timeout_minutes", true, 60, false)};
  int64_t days = get_count(j, "max_run_days", "max_run_days", true, 28, false);
  if (days > 365) throw Error::Invalid("out_of_range", "max_run_days is at most 365", "max_run_days");
  f.max_run = std::chrono::days{days};
  parse_faults(j, f);
  return f;
}

}  // namespace byoc::plan::upgrade
