// The `local` cloud: this machine is the customer's cloud. An environment is a
// directory (0700) under the server's data dir holding its agent's state, and
// the agent runs as a separate process (no inherited descriptors, own session)
// that the driver starts with a fresh join token when needed. The agent's lock
// file tells whether it runs, so a restarted server adopts agents that
// survived it instead of starting a second one.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "cloud/driver.h"

namespace byoc::cloud {

struct LocalDriverOptions {
  std::filesystem::path environments_dir;  // <data dir>/environments
  std::filesystem::path byoc_binary;       // this executable
  std::string server_url;                  // where agents dial
  // Mints a join token for the environment (stored hashed by the caller).
  std::function<std::string(const std::string& environment_id)> issue_join_token;
  // Whether to stop agents when the server stops (true for `byoc server`).
  bool stop_agents_on_shutdown = true;
};

class LocalDriver final : public CloudDriver {
 public:
  explicit LocalDriver(LocalDriverOptions options);
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {"provision", "start_agent"}; }
  Observation observe(const model::Environment& environment) override;
  void create(const model::Environment& environment) override;
  void remove(const model::Environment& environment) override;
  void shutdown() override;

  std::filesystem::path directory(const std::string& environment_id) const;

 private:
  void stop_agent(const std::filesystem::path& dir);
  LocalDriverOptions options_;
};

}  // namespace byoc::cloud
