// Simulator: a deterministic stand-in for one EKS cluster and its Kubernetes
// API, implementing EksControl and KubeControl as the real clients do, in
// virtual time read from an injected ManualClock (it never sleeps and never
// reads the real clock). Given the same fleet, seed and calls it answers the
// same. What happens when (docs/upgrades.md):
//
// - UpdateClusterVersion: one minor; the cluster is UPDATING for
//   `control_plane_per_minor`, then ACTIVE at the new version.
// - CreateNodegroup: CREATING; after `node_ready` its nodes are Ready and it
//   is ACTIVE — or, when the fleet's faults say so, CREATE_FAILED after
//   `create_failure_after` with no nodes.
// - DeleteNodegroup: DELETING for `nodegroup_delete`, then gone with its
//   nodes; a pod still on them is killed (counted: a forced disruption).
// - An accepted eviction: the pod terminates after its drain estimate (a
//   stuck pod never does), is then scheduled on the least-loaded schedulable
//   Ready node of its profile (node groups carry the `byoc.io/profile`
//   label) and is Ready `pod_ready` later. The Eviction API answers 429 when
//   a PodDisruptionBudget would be exceeded.
// - UpdateAddon: UPDATING for `addon_update`.
// - Any call is answered 429 (Throttled) with the fleet's throttle chance.
//
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "plan/upgrade/eks_control.h"
#include "plan/upgrade/fleet.h"
#include "plan/upgrade/kube_control.h"
#include "plan/upgrade/timeline.h"

namespace byoc::plan::upgrade {

inline constexpr const char* kProfileLabel = "byoc.io/profile";

// The simulator's fixed durations (docs/upgrades.md, bench/README.md).
struct SimDurations {
  std::chrono::seconds control_plane_per_minor{std::chrono::minutes{30}};
  std::chrono::seconds node_ready{std::chrono::minutes{5}};
  std::chrono::seconds create_failure_after{std::chrono::minutes{10}};
  std::chrono::seconds nodegroup_delete{std::chrono::minutes{5}};
  std::chrono::seconds pod_ready{std::chrono::minutes{2}};
  std::chrono::seconds addon_update{std::chrono::minutes{2}};
};

// An accepted eviction, as the API server saw it.
struct EvictionRecord {
  Instant at;
  std::string pod;
  std::string service;
  std::string node;
  bool clickhouse = true;
  std::chrono::seconds drain{0};
};

// What a run leaves behind, compared between a run and its crashed twin.
struct WorldSummary {
  std::string cluster_version;
  std::map<std::string, std::string> node_groups;  // name → "version status nodes"
  std::map<std::string, std::string> addons;       // name → version
  std::map<std::string, std::string> pod_groups;   // pod → node group it runs in ("" pending)
  bool operator==(const WorldSummary&) const = default;
};

// The simulator's Timeline: waiting advances its clock.
class SimTimeline final : public Timeline {
 public:
  explicit SimTimeline(ManualClock& clock) : clock_(clock) {}
  Instant now() const override;
  void wait_until(Instant t) override;

 private:
  ManualClock& clock_;
};

class Simulator final : public EksControl, public KubeControl {
 public:
  // `clock` must stand at fleet.start and outlive the simulator.
  Simulator(const Fleet& fleet, uint64_t seed, const ManualClock& clock, SimDurations durations = {});

  Cluster describe_cluster() override;
  std::string update_cluster_version(const std::string& version, const std::string& clientRequestToken) override;
  std::vector<std::string> list_nodegroups() override;
  std::optional<Nodegroup> describe_nodegroup(const std::string& nodegroupName) override;
  void create_nodegroup(const CreateNodegroupRequest& request) override;
  void delete_nodegroup(const std::string& nodegroupName) override;
  std::optional<Addon> describe_addon(const std::string& addonName) override;
  void update_addon(const std::string& addonName, const std::string& addonVersion,
                    const std::string& clientRequestToken) override;

  std::vector<Node> list_nodes(const std::string& label_key, const std::string& label_value) override;
  void taint_and_label_node(const std::string& node, const Taint& taint, const std::string& label,
                            const std::string& label_value) override;
  void cordon_node(const std::string& node) override;
  std::vector<Pod> list_pods_on_node(const std::string& node) override;
  EvictionResult evict_pod(const std::string& pod) override;
  std::vector<Pdb> list_pdbs() override;

  // For tests and the bench; none of these throttles or counts as a call.
  const std::vector<EvictionRecord>& evictions() const { return evictions_; }
  int mutating_calls() const { return mutating_calls_; }
  int nodegroups_created() const { return nodegroups_created_; }
  // Pods killed by a node group's deletion, and the times a PDB had more
  // pods unavailable than it allows.
  int killed_pods() const { return killed_pods_; }
  int pdb_violations() const { return pdb_violations_; }
  // Node-hours of replacement nodes up while their profile's old group still exists.
  double surge_node_hours();
  WorldSummary summary();

 private:
  struct SimGroup {
    Nodegroup spec;
    std::string token;
    Instant created;
    Instant due;  // CREATING → ACTIVE | CREATE_FAILED, DELETING → gone
    bool original = false;
    bool fails = false;
  };
  struct SimNode {
    std::string name;
    std::string group;
    std::map<std::string, std::string> labels;
    Instant ready_at;
    bool unschedulable = false;
    std::vector<Taint> taints;
  };
  struct SimPod {
    FleetPod spec;
    std::string profile;
    std::string node;  // "" while pending
    bool terminating = false;
    bool stuck = false;
    Instant ready_at;  // running: Ready from then
    Instant gone_at;   // terminating: gone then (stuck: never)
  };
  struct SimAddon {
    Addon addon;
    Instant due;
    std::set<std::string> tokens;
  };

  Instant now() const;
  // Applies every change due by now, in time order.
  void settle();
  bool settle_one(Instant now);
  void place_pending(Instant t);
  void remove_group(const std::string& name, Instant t);
  bool pod_ready(const SimPod& pod, Instant t) const;
  bool selects(const FleetPdb& pdb, const SimPod& pod) const;
  int unavailable(const FleetPdb& pdb, Instant t) const;
  void check_pdbs(Instant t);
  void call(bool mutating);  // counts, may throw Throttled
  SimPod& pod_named(const std::string& name);
  SimNode& node_named(const std::string& name);

  const ManualClock& clock_;
  SimDurations durations_;
  std::mt19937_64 rng_;
  int throttle_percent_;
  std::vector<FleetPdb> pdbs_;
  std::map<std::string, int> create_failures_;  // by profile
  std::string cluster_name_;
  std::string cluster_version_;
  std::optional<std::pair<std::string, Instant>> cluster_update_;  // target, due
  std::map<std::string, std::string> update_tokens_;               // token → update id
  std::map<std::string, SimGroup> groups_;
  std::map<std::string, SimNode> nodes_;
  std::map<std::string, SimPod> pods_;
  std::map<std::string, SimAddon> addons_;
  std::map<std::string, Instant> old_group_gone_;  // profile → when its original group went
  std::vector<EvictionRecord> evictions_;
  int mutating_calls_ = 0;
  int nodegroups_created_ = 0;
  int killed_pods_ = 0;
  int pdb_violations_ = 0;
};

}  // namespace byoc::plan::upgrade
