// The registry of cloud drivers: one per cloud in traits.cc, made for one
// server process from what drivers need of it.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cloud/driver.h"

namespace byoc::cloud {

struct DriverDeps {
  std::filesystem::path data_dir;     // drivers keep their state below it
  std::filesystem::path byoc_binary;  // this executable (the local cloud runs agents with it)
  std::string server_url;             // this server's URL
  // Every live server of the plane, this one first (agents fail over among them).
  std::function<std::vector<std::string>()> plane_urls;
  // Where `local` environments live; empty: data_dir/environments.
  std::filesystem::path local_cloud_dir;
  bool stop_local_agents_on_shutdown = true;
  // Mints a join token for an environment's agent (stored hashed by the caller).
  std::function<std::string(const std::string& environment_id)> issue_join_token;
  const Clock* clock = nullptr;
  // The server's environment variables (AWS_* and BYOC_AWS_*: the aws
  // driver's settings, read as the AWS CLI reads them).
  std::function<std::optional<std::string>(std::string_view)> env;
  // Records an event in an environment's audit log (the plane reaching into
  // the customer's cluster, say); empty: not recorded.
  std::function<void(const std::string& environment_id, const nlohmann::json& event)> record_cloud_access;
  std::string agent_image;  // --agent-image: the agent's container image in clusters ("" : BYOC_AGENT_IMAGE)
};

// Throws byoc::Error (internal) if a cloud of traits.cc has no driver.
std::map<std::string, std::unique_ptr<CloudDriver>> make_drivers(const DriverDeps& deps);

// The same map without ownership, as controllers and handlers take it.
std::map<std::string, CloudDriver*> driver_pointers(const std::map<std::string, std::unique_ptr<CloudDriver>>& drivers);

}  // namespace byoc::cloud
