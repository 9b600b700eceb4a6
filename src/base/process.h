// Child processes and the files that coordinate them. byoc starts real
// programs (agents, clickhouse-server, nginx, ZooKeeper) and must never leak a
// descriptor into them (Boost.Asio opens sockets without CLOEXEC: a child that
// inherits the server's listening socket blocks its restart), nor leave one
// behind. Thread-safe unless noted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace byoc::proc {

struct SpawnOptions {
  std::vector<std::string> argv;              // argv[0] is looked up in PATH if not absolute
  std::map<std::string, std::string> env;     // added to / overriding the parent's environment
  std::vector<std::string> unset_env;         // removed from the child's environment
  std::filesystem::path cwd;                  // empty: inherit
  std::filesystem::path output;               // stdout+stderr appended here; empty: /dev/null
  // The child starts a new session (and so its own process group), so signals
  // to the parent's group (Ctrl-C) don't reach it and terminate() can signal
  // its whole group.
  bool new_session = true;
};

// Forks and execs. In the child every descriptor above 2 is closed
// (close_range) and stdin is /dev/null. Returns once exec has succeeded;
// throws byoc::Error (kInternal, with errno text) if exec failed.
pid_t spawn(const SpawnOptions& options);

// Is `pid` a live process (not a zombie)? Works for children and non-children.
bool is_alive(pid_t pid);

// Non-blocking reap of one of our children: its exit status if it has exited
// (the exit code, or 128 + signal number if a signal ended it, as shells report).
std::optional<int> try_reap(pid_t pid);

// SIGTERM to the process group of `pid` (or the process if it leads none),
// wait up to `grace` for it to go (reaping it if it is our child), then SIGKILL
// the group. Returns true if it ended within the grace period.
bool terminate(pid_t pid, std::chrono::milliseconds grace);

// Sends `signo` to the process group `pid` leads (unless it is ours), else to
// `pid` alone, and returns at once; SIGTERM is followed by SIGCONT, as in
// terminate(). Nothing happens when `pid` is gone.
void signal_group(pid_t pid, int signo);

// Waits (polling /proc, reaping our own children) until `pid` is gone or
// `timeout` passes. Returns true if it is gone.
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout);

// Polls `done` (backing off from 1 ms to 50 ms) until it holds or `timeout`
// passes; true when it held. For waits on other processes, which run in real
// time whatever clock a test injects into the code that waits.
bool wait_for(std::chrono::milliseconds timeout, const std::function<bool()>& done);

// An exclusive advisory lock (flock) on a file, held while the object lives.
// The descriptor is CLOEXEC, so children never hold it.
class FileLock {
 public:
  // Returns nullopt if another process holds the lock. Creates the file (0600).
  static std::optional<FileLock> try_acquire(const std::filesystem::path& path);
  // True if some process holds a lock on `path` now (probe without keeping it).
  static bool is_held(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Writes our pid to a file atomically; read_pid_file returns nullopt if the
// file is missing or malformed.
void write_pid_file(const std::filesystem::path& path, pid_t pid);
std::optional<pid_t> read_pid_file(const std::filesystem::path& path);

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). Callers must still retry on a bind conflict.
int pick_free_port();
// True if something accepts TCP connections on host:port now.
bool port_accepts(const std::string& host, int port);

}  // namespace byoc::proc
