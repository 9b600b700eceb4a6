// Timeline: the upgrader's "now" and its waits. The simulator's advances a
// ManualClock (virtual time: a wait returns at once with the world moved on);
// a deployment's would sleep on the system clock. The upgrader reads no other
// clock.
#pragma once

#include "plan/maintenance_window.h"

namespace byoc::plan::upgrade {

class Timeline {
 public:
  virtual ~Timeline() = default;
  virtual Instant now() const = 0;
  // Returns at `t` (at once if t ≤ now).
  virtual void wait_until(Instant t) = 0;
};

}  // namespace byoc::plan::upgrade
