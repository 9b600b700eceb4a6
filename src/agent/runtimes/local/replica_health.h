// ReplicaHealth: what the local runtime knows about whether each replica of
// one service answers, which decides the replicas its endpoint sends traffic
// to. A replica counts as healthy only once its current process (by pid) has
// answered /ping: a restarted replica starts unhealthy and joins the endpoint
// when it answers. A process that died is out at once; a running one that
// stops answering is out after `failures_to_down` probes in a row (one slow
// answer under load doesn't flap it out). Healthy replicas are probed again
// every `recheck`; others (and one that just failed a probe) on every round.
//
// Pure bookkeeping: the caller probes and passes the time (injected clock).
// Not thread-safe: the runtime serialises calls.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"

namespace byoc::agent::local {

class ReplicaHealth {
 public:
  explicit ReplicaHealth(std::chrono::milliseconds recheck = std::chrono::seconds(5),
                         int failures_to_down = 2);

  // Updates the table with the process each replica runs as now (0: not
  // running) and returns the replicas to probe at `now`.
  std::vector<std::string> due(const std::map<std::string, pid_t>& running, MonotonicTime now);

  // The result of a probe of `replica` while it ran as `pid`; ignored if the
  // replica has been seen with another pid since.
  void record(const std::string& replica, pid_t pid, bool answered, MonotonicTime now);

  bool answers(const std::string& replica) const;
  // Has `replica` been probed since its current process started?
  bool known(const std::string& replica) const;
  // Is its current process the first one this table has seen for it? (A
  // table made after an agent restart knows nothing of the adopted ones yet.)
  bool first_process(const std::string& replica) const;
  std::set<std::string> healthy() const;

 private:
  struct Entry {
    pid_t pid = 0;
    bool answers = false;
    bool probed = false;
    int failures = 0;
    int generation = 0;  // how many different processes were seen
    MonotonicTime checked;
  };

  std::chrono::milliseconds recheck_;
  int failures_to_down_;
  std::map<std::string, Entry> entries_;
};

}  // namespace byoc::agent::local
