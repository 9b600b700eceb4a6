// The upgrade controller's decisions, pure: given one environment as the
// store has it and the time, which upgrades to open, start, move on, finish
// or supersede, and what each service's desired version and rollout become.
// No clock, no store: upgrade_controller.h applies a plan in one transaction.
//
// Rules (docs/maintenance.md):
// - A service gets an upgrade to the newest published ClickHouse version when
//   that one was published after the version it runs, unless an upgrade to
//   it failed already (a newer version is the retry). A pending (or paused)
//   upgrade to an older target is superseded; a running one finishes first.
// - A pending upgrade starts when its agent speaks protocol 6, its channel's
//   day has come (or someone started it), its deferral is over, the service
//   is READY, and — with a window — the window is open with room for at
//   least one replica step (kReplicaStepEstimate) before it closes; without
//   a window only once someone started it. Starting sets the service's
//   version and asks its agent for a rollout that takes no replica out after
//   the window closes.
// - A rollout's deadline (not_after) is what the service's policy allows at
//   each look, in both directions: while a window is open with room, its
//   close less kReplicaStepEstimate (so the last step ends by the close);
//   once it closes (or a blackout, a changed window, no window and no start
//   says so), pulled in to now. The agent takes no step at or after it.
// - A running upgrade succeeds when the agent reports the rollout done and
//   the service READY; it fails when the agent reports a failed step — the
//   service's version goes back and the replicas already moved are rolled
//   back the same way (rollout "<id>-revert", paced by the same window).
// - A resize kept for the window (PATCH "when":"window") is applied when the
//   window opens with room for a step (at once if the policy has no window
//   any more); the agent rolls it under the rollout "resize-<requested_at>"
//   (or the running upgrade's), paced by the same deadline.
// - Upgrades of services that are gone or being deleted are cancelled; a
//   newer version supersedes a pending or paused upgrade, keeping its pause
//   and deferral; a pending upgrade's channel day follows the policy as it
//   is now.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/objects.h"
#include "model/upgrades.h"

namespace byoc::controllers {

// Room a window must have left for one replica to be replaced, so that no
// step runs past the close. Once the local runtime has the replica out of its
// endpoint (nothing is disturbed before), its bounds add up to 5 min 30 s: a
// 30 s stop, then the start, ping, replication queue and cluster gates
// (30 + 60 + 120 + 60 s). A step usually takes seconds.
inline constexpr std::chrono::minutes kReplicaStepEstimate{6};

struct UpgradeWorld {
  model::Environment environment;
  std::vector<model::Service> services;
  std::vector<model::PublishedVersion> versions;  // ClickHouse, oldest publication first
  std::vector<model::PublishedVersion> cluster_versions;  // eks, oldest publication first
  std::vector<model::Upgrade> upgrades;           // the environment's, ended ones too
  int64_t now = 0;
};

struct UpgradePlan {
  std::vector<model::Upgrade> upgrades;  // new or changed: to put
  std::vector<model::Service> services;  // changed desired version or rollout: to put
  bool raise_revision = false;           // the agent must hear of a changed service
  int64_t next_look = 0;                 // Unix seconds of the next deadline (0: none)
  bool any_open = false;                 // an upgrade remains open: look again
  // Looks again at `t` (Unix seconds; 0: no deadline) if that is sooner.
  void look_at(int64_t t) {
    if (t > 0 && (next_look == 0 || t < next_look)) next_look = t;
  }
};

UpgradePlan plan_upgrades(const UpgradeWorld& world, const std::function<std::string()>& new_upgrade_id);

// `fresh` replaces `old` (pending, or paused before it began), keeping its
// state and deferral (the customer's word); `old` ends superseded, put in `plan`.
void supersede(model::Upgrade& old, model::Upgrade& fresh, int64_t now, UpgradePlan& plan);

// When `name` was published among `versions` (the oldest time there is if
// never: older than any that was).
int64_t version_published_at(const std::vector<model::PublishedVersion>& versions, const std::string& name);

// What a pending upgrade waits for now ("" if nothing: it may start), and
// from when it may start at the earliest (0: not known: a start, an agent).
struct UpgradeWait {
  std::string waiting_for;  // agent | channel | deferral | service | start | window | ""
  int64_t not_before = 0;
};
UpgradeWait upgrade_wait(const model::Upgrade& upgrade, const model::Environment& environment,
                         const model::Service& service, int64_t now);

// When a pending upgrade would start at the earliest if nothing else
// changed: past its channel's day (unless started) and its deferral, at the
// first moment after that a window has room for a step; 0 when that hangs on
// a person or an agent (no window and not started, an older agent).
// The rollout id that takes a failed upgrade's replicas back.
std::string revert_rollout_id(const std::string& upgrade_id);
// The rollout id of a resize applied from the window.
std::string resize_rollout_id(int64_t requested_at);

int64_t earliest_start(const model::Upgrade& upgrade, const model::Environment& environment,
                       const model::Service& service, int64_t now);

}  // namespace byoc::controllers
