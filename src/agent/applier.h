// DesiredStateApplier: turns the desired states the agent receives into calls
// to its Runtime, after checking each service (desired_check.h) against the
// invariants and the customer policy, re-read from the state dir on every
// apply. It remembers, in <state dir>/accepted.json (0600), the last spec it
// accepted for each service and the environment network it pinned, so that:
//  - a refused service keeps its last good configuration: the runtime is not
//    called with the refused spec, and after an agent restart the last
//    accepted spec is what runs again;
//  - the `default` password hash of a service is compared with the accepted
//    one, and the environment network can't be swapped.
// Nothing is applied twice: a service whose spec equals the one the runtime
// was last given by this process is not handed to the runtime again.
//
// Threading: apply(), retry_failed() and outcome() run on one thread (the
// sync loop); applied() and outcome() may be called from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "agent/desired_check.h"
#include "agent/runtime.h"
#include "agent/state_layout.h"
#include "model/protocol.h"

namespace byoc::agent {

inline constexpr const char* kAcceptedFile = layout::kAccepted;


class DesiredStateApplier {
 public:
  // Loads accepted.json if present (throws byoc::Error if it is corrupt).
  DesiredStateApplier(Runtime& runtime, std::filesystem::path state_dir, EnvironmentScope scope);

  // Checks and applies every service of `desired`, removes services it no
  // longer lists, and records the outcome of each.
  void apply(const model::DesiredState& desired);

  // Hands services whose last runtime call threw and removals that failed to
  // the runtime again.
  void retry_failed();

  // The reason code for each service of the last desired state that was
  // refused or failed to apply; services not listed were applied.
  std::map<std::string, std::string> outcomes() const;

  // The spec the runtime was last given for each service by this process.
  std::map<std::string, ServiceSpec> applied() const;

  // The revision of the last desired state processed (applied or refused).
  int64_t applied_revision() const;

 private:
  void load_accepted();
  void save_accepted() const;
  // Hands `spec` to the runtime unless it already runs it; "" or a reason code.
  std::string run(const model::DesiredService& spec);
  void remove_undesired(const model::DesiredState& desired);
  void set_outcome(const std::string& service, const std::string& reason);

  Runtime& runtime_;
  std::filesystem::path state_dir_;
  EnvironmentScope scope_;
  // Sync-loop thread only.
  std::string environment_id_;
  std::string pinned_cidr_;
  std::map<std::string, model::DesiredService> accepted_;
  std::optional<model::DesiredState> last_desired_;
  std::set<std::string> retry_;  // services whose last runtime call threw
  bool removal_failed_ = false;

  mutable std::mutex mutex_;  // guards the members below
  std::map<std::string, ServiceSpec> applied_;
  std::map<std::string, std::string> outcomes_;
  int64_t applied_revision_ = 0;
};

}  // namespace byoc::agent
