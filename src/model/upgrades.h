// Versions the vendor publishes to the management plane, and the upgrades
// they make pending for services: what the upgrade controller
// (controllers/upgrade_planner.h) moves, and the API shows. A version is a
// name only: each agent maps names to what it runs (its versions.json).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace byoc::model {

inline constexpr const char* kVersionClickHouse = "clickhouse";
inline constexpr const char* kVersionEks = "eks";

struct PublishedVersion {
  std::string kind;   // clickhouse | eks
  std::string name;   // 1-64 of [A-Za-z0-9._+-]
  int64_t published_at = 0;  // Unix seconds: channels count from here
  std::string published_by;  // the admin's subject or token id
  int64_t created_at = 0;
  bool operator==(const PublishedVersion&) const = default;
};

// POST /v1/versions {"kind","name","published_at"?}: published_at (RFC 3339)
// defaults to `now` and may not lie ahead of it; an eks version is a
// Kubernetes minor, "1.N". Throws Error naming the field.
PublishedVersion parse_version_publish(const nlohmann::json& body, int64_t now);
nlohmann::json to_json(const PublishedVersion& v);

// An upgrade's lifecycle. pending: waiting for its channel's day, its
// deferral, a start (services without a window) or its window; running: the
// service's desired version is the new one and its agent rolls it replica
// by replica, inside the window; paused: someone paused it (a running one
// stops after the replica step in progress); succeeded; failed: a replica
// did not come back healthy (the service serves on the old version, the
// failed step is named); superseded: a newer version replaced it before it
// ran; cancelled: its service went.
inline constexpr const char* kUpgradePending = "pending";
inline constexpr const char* kUpgradeRunning = "running";
inline constexpr const char* kUpgradePaused = "paused";
inline constexpr const char* kUpgradeSucceeded = "succeeded";
inline constexpr const char* kUpgradeFailed = "failed";
inline constexpr const char* kUpgradeSuperseded = "superseded";
inline constexpr const char* kUpgradeCancelled = "cancelled";  // its service (or environment) was deleted
// The days one deferral may push an upgrade by, and how many it gets.
inline constexpr int kMaxDeferralDays = 14;

// A Kubernetes upgrade's run (kind eks): the upgrader's journal and what the
// controller learned from it (controllers/cluster_upgrade_run.h). Empty for
// ClickHouse upgrades.
struct ClusterUpgradeProgress {
  // The upgrader's record (plan/upgrade/upgrade_record.h) as JSON text, saved
  // in its own transaction before each step acts; "" before the first.
  std::string journal;
  int64_t deadline = 0;   // Unix seconds: fixed when it starts (after it, windows are no longer waited for)
  int64_t resume_at = 0;  // the upgrader waits until then (a poll, a window, the deadline); 0: at once
  // Unix seconds a begun run was paused (0: it isn't): resumed, its deadline
  // moves on by the pause, which the customer's windows did not get to use.
  int64_t paused_at = 0;
  std::string phase;      // control_plane | node_groups | addons | done ("" before it starts)
  int events = 0;         // what the upgrader did or saw so far (docs/upgrades.md's actions), resumes apart
  std::string last_event;
  int64_t last_event_at = 0;
  std::vector<std::string> failed_node_groups;     // old groups left: their replacement kept failing
  std::map<std::string, std::string> quarantined;  // node → reason (timeout, deadline)
  bool operator==(const ClusterUpgradeProgress&) const = default;
};

struct Upgrade {
  std::string id;  // upg-<16 hex>; also the rollout id the agent reports against
  std::string environment_id;
  std::string organization;
  std::string service_name;  // "" for a Kubernetes upgrade (kind eks): it is the environment's cluster
  std::string kind = kVersionClickHouse;
  std::string from_version;
  std::string to_version;
  std::string state = kUpgradePending;
  int64_t available_at = 0;    // publication + the channel's delay
  int64_t deferred_until = 0;  // 0: never deferred (one deferral per upgrade)
  bool started = false;        // someone started it: its channel's day is not waited for
  int64_t running_until = 0;   // while running: the window's close the agent was given (0: none)
  // The agent's progress, as last reported.
  int replicas_done = 0;
  int replicas_total = 0;
  int failed_shard = 0;
  int failed_replica = 0;
  std::string failed_check;
  std::string waiting_for;  // pending: channel | deferral | start | window | agent | environment ("" otherwise)
  ClusterUpgradeProgress cluster;  // kind eks only
  int64_t created_at = 0;
  int64_t updated_at = 0;
  int64_t finished_at = 0;
  bool operator==(const Upgrade&) const = default;
  bool open() const { return state == kUpgradePending || state == kUpgradeRunning || state == kUpgradePaused; }
};

nlohmann::json to_json(const Upgrade& u, const std::string& environment_name);

}  // namespace byoc::model
