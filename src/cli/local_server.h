// LocalServer: the management-plane server `byoc up` talks to. Either one
// already serving the data dir (its lock DIR/server/server.lock is held; its
// URL is in DIR/server/server.json) which we only use, or one we start as a
// child (`byoc server --listen 127.0.0.1:PORT --data-dir DIR/server`, log in
// DIR/server.log) and stop again, together with everything it started.
//
// The port of a started server is remembered in DIR/up.json and asked for
// again next time, so the URL stays the same across runs when it can.
// Credentials come from the server's own files (admin.token, ca.pem); they
// are never copied into the user's CLI config.
//
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/config.h"
#include "cli/progress.h"

namespace byoc::cli {

class LocalServer {
 public:
  struct Options {
    std::filesystem::path dir;         // `byoc up`'s data dir (absolute)
    std::filesystem::path executable;  // the byoc binary that runs `byoc server`
    std::chrono::milliseconds start_timeout{std::chrono::seconds(60)};
    std::chrono::milliseconds stop_timeout{std::chrono::seconds(90)};
    std::function<bool()> cancelled;  // polled while waiting
  };

  // Reuses a live server or starts one, and returns once GET /healthz
  // answers 200 over TLS verified against DIR/server/ca.pem. Throws
  // byoc::Error if the server exits or doesn't answer in time, or when
  // cancelled (a server we started is stopped first).
  static std::unique_ptr<LocalServer> start_or_reuse(const Options& options, ProgressPrinter& progress);

  // Stops the server if we started it and it still runs (best effort).
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  const std::string& url() const { return url_; }
  pid_t pid() const { return pid_; }
  bool owned() const { return owned_; }
  std::filesystem::path server_dir() const { return options_.dir / "server"; }
  std::filesystem::path log_file() const { return options_.dir / "server.log"; }

  // url + the server's CA + its admin token.
  ClientConfig credentials() const;

  // For a server we started: its wait status once it has exited (reaped).
  std::optional<int> exit_status();

  // For a server we started: SIGTERM, wait for it (it stops its agents, which
  // stop their services), then wait until no process names DIR/server any
  // more, ending leftovers by PID. Returns true if all went on their own. A
  // server we only reused is left running.
  bool stop(ProgressPrinter& progress);

 private:
  explicit LocalServer(Options options) : options_(std::move(options)) {}

  bool try_reuse(ProgressPrinter& progress);
  // One start attempt on `listen`; false if the child exited before it was ready.
  bool try_start(const std::string& listen, ProgressPrinter& progress);
  // server.json's URL if it names `pid` (0: any live pid) and /healthz answers.
  std::optional<std::string> healthy_url(pid_t pid);
  void remember_port();
  void check_cancelled();

  Options options_;
  std::string url_;
  pid_t pid_ = 0;
  bool owned_ = false;
  bool exited_ = false;
  int exit_status_ = 0;
  std::string last_probe_error_;  // why the last /healthz probe failed, for error messages
};

// The last non-empty line of a log file ("" if none), for error messages.
std::string last_log_line(const std::filesystem::path& path);

}  // namespace byoc::cli
