// Upgrader: upgrades one EKS cluster's Kubernetes version — control plane one
// minor at a time, then every managed node group by replacement (surge: all
// replacements created up front), then the addons — as a level-triggered,
// resumable state machine. Each step observes the world, records its intent
// in the journal, then acts; a fresh Upgrader on the same journal resumes a
// run that crashed and never creates a second node group; a run over a world
// already upgraded makes no mutating call.
//
// Draining respects PodDisruptionBudgets (the Eviction API only, never a
// delete) and leaves a ClickHouse pod until its service's maintenance window
// is open and what is left of it fits the pod's drain estimate. A node whose
// pods can't leave within the eviction timeout is quarantined: kept cordoned,
// reported, its node group not deleted. docs/upgrades.md has the steps.
//
// Not thread-safe: one run on one thread; the controls and the timeline are
// used by it alone while it runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "plan/maintenance_window.h"
#include "plan/upgrade/eks_control.h"
#include "plan/upgrade/journal.h"
#include "plan/upgrade/kube_control.h"
#include "plan/upgrade/timeline.h"
#include "plan/upgrade/upgrade_record.h"

namespace byoc::plan::upgrade {

struct UpgradeTarget {
  std::string run_id;  // makes the idempotency tokens; the same for a resumed run
  std::string target_version;
  std::map<std::string, std::string> addon_versions;  // addon → target version
  std::map<std::string, MaintenanceWindow> windows;   // by service
  std::chrono::seconds eviction_timeout{std::chrono::minutes{60}};
  // After it, pods still waiting for a window have their nodes quarantined;
  // a day later the run stops whatever is left.
  Instant deadline;
};

struct UpgradeOptions {
  std::chrono::seconds poll{30};
  // A replacement group is created this long before the first of its old group's pods may leave (the
  // next window that fits a ClickHouse pod's drain; now for any other pod), not days ahead of it: the
  // same wall time with far fewer surge node-hours. Above the time a node group takes to become Ready.
  std::chrono::seconds replacement_lead{std::chrono::minutes{15}};
  int max_create_attempts = 3;
  int throttle_retries = 8;
  std::chrono::seconds backoff_first{1};
  std::chrono::seconds backoff_cap{60};
  // Abort (throw InjectedCrash) at this crash point (counted from 1: each
  // journal save, and each mutating call just sent); 0 never.
  int64_t crash_at = 0;
};

// One thing the upgrader did or saw; empty fields are not printed.
struct UpgradeEvent {
  Instant time;
  std::string action;
  std::string node_group;
  std::string node;
  std::string pod;
  std::string service;
  std::string addon;  // update_addon only
  bool operator==(const UpgradeEvent&) const = default;
};

struct UpgradeOutcome {
  bool done = false;  // false: stopped a day after the deadline
  std::map<std::string, std::string> quarantined;  // node → reason
  std::vector<std::string> failed_node_groups;     // old groups left: their replacement kept failing
};

class InjectedCrash : public std::exception {
 public:
  const char* what() const noexcept override { return "injected crash"; }
};

class Upgrader {
 public:
  // Every reference must outlive the upgrader; `events` collects what it does.
  Upgrader(UpgradeTarget target, EksControl& eks, KubeControl& kube, Timeline& timeline, UpgradeJournal& journal,
           std::vector<UpgradeEvent>& events, UpgradeOptions options = {});

  UpgradeOutcome run();
  // Crash points passed so far (for trying a crash at each).
  int64_t crash_points() const { return crash_points_; }

 private:
  class Deferred {};  // a call kept being throttled: try again at the next poll

  // One pass over the world: true when it is all done.
  bool reconcile();
  bool control_plane_done();
  void capture_old_groups();
  bool replacement_ready(const std::string& old_name, GroupRecord& g);
  // When the replacement of `old_name` should be created (replacement_lead before its pods may leave).
  Instant replacement_due(const std::string& old_name);
  // After giving up on a replacement: its last failed attempt deleted and gone.
  bool failed_replacement_gone(const GroupRecord& g);
  // Taints, labels and cordons the old group's nodes; adds their pods to `pods` (old group, pod).
  void prepare_old_nodes(const std::string& old_name, std::vector<std::pair<std::string, Pod>>& pods);
  bool old_group_done(const std::string& old_name, GroupRecord& g);
  void drain(const std::vector<std::pair<std::string, Pod>>& pods);
  bool evict_one(const std::string& group, const Pod& pod, std::vector<Pdb>& pdbs);
  void quarantine(const std::string& group, const std::string& node, const std::string& reason);
  bool addons_done();
  // When the next window that fits `drain` opens for `service` after now.
  Instant next_fitting_window(const std::string& service, std::chrono::seconds drain) const;

  template <class F>
  auto observe(F&& f) -> decltype(f());
  template <class F>
  auto mutate(const std::string& intent, F&& f) -> decltype(f());
  void save();
  void crash_point();
  void event(std::string action, std::string group = "", std::string node = "", std::string pod = "",
             std::string service = "");
  std::string token(const std::string& what) const;

  UpgradeTarget target_;
  EksControl& eks_;
  KubeControl& kube_;
  Timeline& timeline_;
  UpgradeJournal& journal_;
  std::vector<UpgradeEvent>& events_;
  UpgradeOptions options_;
  std::map<std::string, WindowCalendar> calendars_;
  UpgradeRecord record_;
  int64_t crash_points_ = 0;
  bool busy_ = false;  // something is in flight: poll again soon
  Instant wake_;       // else wait until this
  // This pass's view of each old group: node → pods left on it (absent: the group is gone).
  std::map<std::string, std::map<std::string, std::size_t>> pods_left_;
};

// A call retried with backoff while it is throttled; Deferred after options_.throttle_retries.
template <class F>
auto Upgrader::observe(F&& f) -> decltype(f()) {
  std::chrono::seconds backoff = options_.backoff_first;
  for (int attempt = 1;; ++attempt) {
    try {
      return f();
    } catch (const Throttled&) {
      event("throttled");
      if (attempt >= options_.throttle_retries) throw Deferred{};
      timeline_.wait_until(timeline_.now() + backoff);
      backoff = std::min(backoff * 2, options_.backoff_cap);
    }
  }
}

// A mutating call: its intent recorded first, a crash point once it is sent.
template <class F>
auto Upgrader::mutate(const std::string& intent, F&& f) -> decltype(f()) {
  record_.intent = intent;
  save();
  auto result = observe(std::forward<F>(f));
  crash_point();  // sent, its outcome not yet recorded
  return result;
}

}  // namespace byoc::plan::upgrade
