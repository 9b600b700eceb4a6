// Support for byoc's end-to-end tests: running the real `byoc` binary as a
// child (stdout and stderr captured to files, its own process group, a
// hermetic environment with its own HOME), finding every process that still
// names a test's directory, and ending them by PID.
//
// Nothing here is byoc code under test: the tests check byoc's cleanup with
// their own /proc scan. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace byoc::e2e {

// The environment a byoc child gets: ours, minus every BYOC_*/XDG_* variable
// that could point it at a developer's real server or files, plus `extra`.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra);

// A `byoc` process started by a test. The destructor ends it (SIGTERM, then
// SIGKILL to its process group) if it still runs.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        const std::filesystem::path& output_prefix);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  std::string out() const;  // what it wrote so far
  std::string err() const;
  // Waits for it to exit; its exit code (128+N for signal N), nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  // SIGTERM, then SIGKILL to its group after `grace`.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
};

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
  // Lines on stderr (a final line without '\n' counts).
  size_t err_lines() const;
};

// Runs `byoc args…` to completion (killed after `timeout`, which fails the test).
RunResult run_byoc(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                   const std::filesystem::path& scratch,
                   std::chrono::milliseconds timeout = std::chrono::minutes(10));

struct ProcessInfo {
  pid_t pid;
  std::string executable;  // basename of /proc/PID/exe
  std::string command;     // argv joined by spaces
};

// Live processes (not zombies, not this one) with `dir` in their command line.
std::vector<ProcessInfo> processes_mentioning(const std::filesystem::path& dir);
// Ends them by PID (SIGTERM, then SIGKILL) and waits until they are gone.
void kill_processes_mentioning(const std::filesystem::path& dir);
std::string describe(const std::vector<ProcessInfo>& processes);

// Every `*.pid` file under `dir` whose PID is alive.
std::vector<std::string> live_pid_files(const std::filesystem::path& dir);

bool pid_alive(pid_t pid);
unsigned file_mode(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);  // "" if missing

}  // namespace byoc::e2e
