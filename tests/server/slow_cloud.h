// SlowCloud: a test-only cloud driver that behaves like CloudFormation on
// the manual clock. A stack takes 45 minutes to create, 10 to update and 20
// to delete; a creation may be scripted to fail and roll back. Calls are
// idempotent by token alone (as ClientRequestToken or EC2's ClientToken make
// them): a create with another token makes another stack, so only the
// controller's recorded token keeps a retry from making a second one. The
// cloud outlives the controllers (server processes) that talk to it. Every call passes a crash
// point first and last, where a test may throw SimulatedCrash to stop the
// "server" mid-step.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "base/clock.h"
#include "cloud/driver.h"

namespace byoc::controllers::test {

struct SimulatedCrash : std::runtime_error {
  explicit SimulatedCrash(const std::string& point) : std::runtime_error("crashed at " + point) {}
};

struct SlowCloudTimes {
  std::chrono::minutes create{45};
  std::chrono::minutes update{10};
  std::chrono::minutes remove{20};
  std::chrono::minutes fail_after{30};  // into a creation scripted to fail
  std::chrono::minutes rollback{5};
  std::chrono::seconds look_again{30};
};

class SlowCloud final : public cloud::CloudDriver {
 public:
  SlowCloud(const Clock& clock, SlowCloudTimes times = {}) : clock_(clock), times_(times) {}

  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {"provision", "wait_ready"}; }
  cloud::Observation observe(const model::Environment& environment) override;
  std::string create(const model::Environment& environment, const std::string& token) override;
  void update(const model::Environment& environment, const std::string& token) override;
  void remove(const model::Environment& environment, const std::string& token) override;

  // Scripting and accounting.
  int fail_next_creates = 0;                            // these many creations fail and roll back
  std::function<void(const std::string& point)> crash;  // called at each crash point
  int stacks_created = 0;  // every stack ever made
  int updates_started = 0;
  int deletes_started = 0;
  int observations = 0;
  size_t live() const { return stacks_.size(); }
  // Someone deletes the environment's stacks behind our back.
  void vanish(const std::string& environment_id) { stacks_.erase(environment_id); }
  size_t most_live = 0;  // the most stacks alive at once

 private:
  enum class Phase { kCreating, kFailing, kReady, kUpdating, kDeleting };
  struct Stack {
    std::string id;
    std::string token;  // of the last accepted call
    std::string spec;   // what the last accepted call asked for
    Phase phase = Phase::kCreating;
    bool fails = false;
    MonotonicTime since;
  };
  static std::string spec_of(const model::Environment& e);
  // Moves stacks along by the clock; removes deleted ones.
  void settle();
  void point(const std::string& name) {
    if (crash) crash(name);
  }

  const Clock& clock_;
  SlowCloudTimes times_;
  // By environment id; the newest is the one observed.
  std::multimap<std::string, Stack> stacks_;
  Stack* newest(const std::string& environment_id);
};

}  // namespace byoc::controllers::test
