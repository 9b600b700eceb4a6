// The `local` cloud: this machine is the customer's cloud. An environment is a
// directory (0700) under the local cloud's dir (the server's data dir, or one
// the plane's servers share) holding its agent's state, and
// the agent runs as a separate process (no inherited descriptors, own session)
// that the driver starts with a fresh join token when needed. The agent's lock
// file tells whether it runs, so a restarted server adopts agents that
// survived it instead of starting a second one. The token of the last action
// asked of it is kept in the directory, so observe() can tell what was
// accepted. An agent that isn't running (and wasn't just started, by any
// server: the start time is in the directory too), or that dials no live
// server of the plane, makes the environment out of date, and update()
// starts it again, dialling all of them. remove() signals the agent and returns: the directory goes on a
// later call, once the agent (which stops its services first) has exited,
// or after a grace period and SIGKILL.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloud/driver.h"

namespace byoc::cloud {

struct LocalDriverOptions {
  std::filesystem::path environments_dir;  // <data dir>/environments
  std::filesystem::path byoc_binary;       // this executable
  std::string server_url;                  // this server's URL
  // Every live server of the plane (empty function: this server alone).
  std::function<std::vector<std::string>()> plane_urls;
  // Mints a join token for the environment (stored hashed by the caller).
  std::function<std::string(const std::string& environment_id)> issue_join_token;
  // Whether to stop agents when the server stops (true for `byoc server`).
  bool stop_agents_on_shutdown = true;
  const Clock* clock = nullptr;  // required: the stop grace period
  // How long a stopping agent may take (it stops its services first).
  std::chrono::milliseconds stop_grace{std::chrono::seconds(60)};
};

class LocalDriver final : public CloudDriver {
 public:
  explicit LocalDriver(LocalDriverOptions options);
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {"provision", "start_agent"}; }
  Observation observe(const model::Environment& environment) override;
  std::string create(const model::Environment& environment, const std::string& token) override;
  void update(const model::Environment& environment, const std::string& token) override;
  void remove(const model::Environment& environment, const std::string& token) override;
  void shutdown() override;

  std::filesystem::path directory(const std::string& environment_id) const;

 private:
  void start_agent(const model::Environment& environment, const std::filesystem::path& dir);
  void stop_agent(const std::filesystem::path& dir);
  std::vector<std::string> plane_urls() const;
  // Whether the agent in `dir` dials at least one live server of the plane.
  bool dials_the_plane(const std::filesystem::path& dir) const;
  LocalDriverOptions options_;
  std::mutex mutex_;
  std::map<std::string, MonotonicTime> stopping_since_;  // environment id → first SIGTERM
  std::map<std::string, MonotonicTime> started_at_;      // environment id → last agent start
  std::map<std::string, pid_t> children_;                // environment id → the agent we spawned
  // The agent we spawned for the environment if it still runs; reaps it if it exited.
  std::optional<pid_t> live_child_locked(const std::string& environment_id);
};

}  // namespace byoc::cloud
