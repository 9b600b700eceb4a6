// Supervisor: the table of long-running child processes of the local runtime
// (clickhouse-server, nginx), each known by a key ("orders/s1r1"). It starts
// or adopts a process, notices when it dies (reaping our children, probing
// adopted ones through /proc), kills what the dead leader left in its process
// group (nginx workers outlive a killed master and keep its port), and starts
// it again after an exponential backoff that resets once the process has run
// for a while. Every process gets a pid file, so a later runtime (after an
// agent restart) adopts a live process instead of starting a second one.
//
// Time for backoff comes from the injected Clock. Not thread-safe: the owner
// serialises every call (the local runtime holds its mutex), and the
// before_start hook runs inside poll()/ensure_running() under that same lock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"

namespace byoc::agent::local {

struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{10'000};
  // A process that ran at least this long before dying starts over at `initial`.
  std::chrono::milliseconds reset_after{30'000};
  // This many deaths in a row (each sooner than reset_after) and the process
  // is reported FAILED; it is still restarted at the `max` pace.
  int failed_after = 5;
};

struct ProcessSpec {
  std::vector<std::string> argv;
  std::filesystem::path cwd;
  std::filesystem::path output;    // stdout + stderr, appended
  std::filesystem::path pid_file;  // written by the supervisor after each start
  // A process whose command line has this as one whole argument is ours (its
  // config file, e.g. "--config-file=/abs/config.xml"): required to adopt a
  // pid from the pid file, since pids are recycled.
  std::string cmdline_marker;
  // The kernel name of the process and its helpers ("nginx"), used to clean
  // its group after the leader dies.
  std::string comm;
  // Runs right before each start (first start and restarts): the owner checks
  // ports and rewrites config files. Throwing counts as a failed start.
  std::function<void()> before_start;
};

enum class ProcessState {
  kRunning,  // started (or adopted) and not seen dead since
  kBackoff,  // died; waiting to be started again
  kFailed,   // died failed_after times in a row; still restarted, at the max pace
};

struct ProcessInfo {
  ProcessState state = ProcessState::kRunning;
  pid_t pid = 0;  // 0 while not running
  bool adopted = false;
  MonotonicTime started_at;
  int restarts = 0;              // starts after the first one
  int consecutive_failures = 0;  // deaths without a reset in between
  std::optional<int> last_exit;  // exit code (128+signal) of the last death, if ours
};

class Supervisor {
 public:
  explicit Supervisor(const Clock& clock, BackoffPolicy policy = {});

  // Makes sure the process runs: keeps a live one, adopts the one named by the
  // pid file when its command line carries the marker, else starts it now
  // (running before_start first). Replaces the stored spec. A failed first
  // start throws byoc::Error and leaves the process scheduled for a restart.
  void ensure_running(const std::string& key, ProcessSpec spec);

  // Notices deaths and restarts processes whose backoff has passed.
  void poll();

  // Stops supervising the process and returns its pid (if it runs) so the
  // caller can terminate it without holding its lock; the caller removes the
  // pid file once the process is gone.
  std::optional<pid_t> release(const std::string& key);

  // Signals the process (e.g. SIGHUP to reload nginx). False if not running.
  bool signal(const std::string& key, int sig);

  std::optional<ProcessInfo> info(const std::string& key) const;
  std::vector<std::string> keys() const;

  // Adoption probe without supervising: the live pid from `pid_file` if its
  // command line has `marker` as a whole argument.
  static std::optional<pid_t> find_running(const std::filesystem::path& pid_file, const std::string& marker);

 private:
  struct Entry {
    ProcessSpec spec;
    ProcessInfo info;
    std::chrono::milliseconds backoff{0};
    MonotonicTime next_start;
  };

  void start(const std::string& key, Entry& entry);
  void on_death(const std::string& key, Entry& entry, std::optional<int> exit_code);
  bool check_alive(const std::string& key, Entry& entry);

  const Clock& clock_;
  BackoffPolicy policy_;
  std::map<std::string, Entry> entries_;
};

const char* to_string(ProcessState s);

}  // namespace byoc::agent::local
