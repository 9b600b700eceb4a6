#include "plan/placement_json.h"

#include <cmath>
#include <set>

#include "base/error.h"
#include "plan/json_fields.h"

namespace byoc::plan {

using nlohmann::json;


PlacementInput placement_input_from_json(const json& j) {
  require_object(j, "");
  only_fields(j, "", {"mode", "zones", "instance_types", "allocatable", "daemonsets", "ami", "measured_capacity",
                      "replicas"});
  PlacementInput in;
  std::string mode = get_string(j, "mode", "mode");
  if (mode == "dedicated") {
    in.mode = PlacementMode::kDedicated;
  } else if (mode == "packed") {
    in.mode = PlacementMode::kPacked;
  } else {
    throw Error::Invalid("invalid_mode", "mode must be \"dedicated\" or \"packed\", not \"" + mode + "\"", "mode");
  }
  in.zones = get_string_list(j, "zones", "zones", true, true);
  in.instance_types = get_string_list(j, "instance_types", "instance_types", false, true);
  if (j.contains("allocatable")) {
    std::string a = get_string(j, "allocatable", "allocatable");
    auto m = parse_allocatable_mode(a);
    if (!m) {
      throw Error::Invalid("invalid_allocatable", "allocatable must be \"nominal\" or \"karpenter\", not \"" + a + "\"",
                           "allocatable");
    }
    in.allocatable.mode = *m;
  }
  if (j.contains("daemonsets")) {
    const json& d = require_object(j["daemonsets"], "daemonsets");
    only_fields(d, "daemonsets", {"cpu_millis", "memory_mib"});
    in.allocatable.daemonsets.cpu_millis = get_count(d, "cpu_millis", "daemonsets.cpu_millis", false, 0, false);
    in.allocatable.daemonsets.memory_mib = get_count(d, "memory_mib", "daemonsets.memory_mib", false, 0, false);
  }
  in.allocatable.ami = get_string(j, "ami", "ami", false);
  if (j.contains("measured_capacity")) {
    const json& list = j["measured_capacity"];
    if (!list.is_array()) throw Error::Invalid("invalid_type", "measured_capacity must be an array", "measured_capacity");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string f = "measured_capacity[" + std::to_string(i) + "]";
      const json& m = require_object(list[i], f);
      only_fields(m, f, {"type", "ami", "cpu_millis", "memory_mib"});
      MeasuredCapacity mc;
      mc.type = get_string(m, "type", f + ".type");
      mc.ami = get_string(m, "ami", f + ".ami", false);
      mc.capacity.cpu_millis = get_count(m, "cpu_millis", f + ".cpu_millis", true, 0, true);
      mc.capacity.memory_mib = get_count(m, "memory_mib", f + ".memory_mib", true, 0, true);
      in.allocatable.measured.push_back(std::move(mc));
    }
  }
  auto it = j.find("replicas");
  if (it == j.end()) throw Error::Invalid("missing_field", "replicas is required", "replicas");
  if (!it->is_array()) throw Error::Invalid("invalid_type", "replicas must be an array", "replicas");
  std::set<std::string> ids;
  for (size_t i = 0; i < it->size(); ++i) {
    std::string f = "replicas[" + std::to_string(i) + "]";
    const json& r = require_object((*it)[i], f);
    only_fields(r, f, {"id", "service", "shard", "cpu_millis", "memory_mib"});
    ReplicaRequest rep;
    rep.id = get_string(r, "id", f + ".id");
    if (!ids.insert(rep.id).second) {
      throw Error::Invalid("duplicate_replica", "replica id '" + rep.id + "' is used twice", f + ".id");
    }
    rep.service = get_string(r, "service", f + ".service");
    auto shard = r.find("shard");
    if (shard == r.end()) {
      throw Error::Invalid("missing_field", f + ".shard is required", f + ".shard");
    } else if (shard->is_number_integer() && shard->get<int64_t>() >= 0) {
      rep.shard = std::to_string(shard->get<int64_t>());
    } else if (shard->is_string() && !shard->get<std::string>().empty()) {
      rep.shard = shard->get<std::string>();
    } else {
      throw Error::Invalid("invalid_type", f + ".shard must be a non-negative integer or a string", f + ".shard");
    }
    rep.size.cpu_millis = get_count(r, "cpu_millis", f + ".cpu_millis", true, 0, true);
    rep.size.memory_mib = get_count(r, "memory_mib", f + ".memory_mib", true, 0, true);
    in.replicas.push_back(std::move(rep));
  }
  return in;
}

CurrentPlan current_plan_from_json(const json& j) {
  require_object(j, "current");
  auto it = j.find("nodes");
  if (it == j.end()) throw Error::Invalid("missing_field", "current.nodes is required", "current.nodes");
  if (!it->is_array()) throw Error::Invalid("invalid_type", "current.nodes must be an array", "current.nodes");
  CurrentPlan plan;
  for (size_t i = 0; i < it->size(); ++i) {
    std::string f = "current.nodes[" + std::to_string(i) + "]";
    const json& n = require_object((*it)[i], f);
    only_fields(n, f, {"type", "zone", "replicas"});
    PlannedNode node;
    node.type = get_string(n, "type", f + ".type");
    node.zone = get_string(n, "zone", f + ".zone");
    node.replicas = get_string_list(n, "replicas", f + ".replicas", true, true);
    plan.nodes.push_back(std::move(node));
  }
  return plan;
}

json to_json(const PlacementPlan& plan) {
  json j;
  j["cost_per_hour"] = plan.cost_per_hour;
  j["bound"] = {{"kind", std::string(to_string(plan.bound.kind))}, {"cost_per_hour", plan.bound.cost_per_hour}};
  j["nodes"] = json::array();
  for (const auto& n : plan.nodes) {
    j["nodes"].push_back({{"type", n.type}, {"zone", n.zone}, {"replicas", n.replicas}});
  }
  j["node_groups"] = json::array();
  for (const auto& g : plan.node_groups) {
    j["node_groups"].push_back({{"name", g.name}, {"type", g.type}, {"zone", g.zone}, {"count", g.count}});
  }
  if (plan.migrations) j["migrations"] = *plan.migrations;
  if (plan.saving_per_hour) {
    j["saving_per_hour"] = *plan.saving_per_hour;
    size_t moves = plan.migrations ? plan.migrations->size() : 0;
    j["saving_per_hour_per_migration"] =
        moves ? std::round(*plan.saving_per_hour / static_cast<double>(moves) * 1e6) / 1e6 : 0.0;
  }
  return j;
}

}  // namespace byoc::plan
