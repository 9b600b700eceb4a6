#include "cloud/drivers.h"

#include "base/error.h"
#include "cloud/aws/aws_driver.h"
#include "cloud/external/external_driver.h"
#include "cloud/local/local_driver.h"
#include "cloud/traits.h"

namespace byoc::cloud {

std::map<std::string, std::unique_ptr<CloudDriver>> make_drivers(const DriverDeps& deps) {
  std::map<std::string, std::unique_ptr<CloudDriver>> out;
  LocalDriverOptions local;
  local.environments_dir = deps.local_cloud_dir.empty() ? deps.data_dir / "environments" : deps.local_cloud_dir;
  local.byoc_binary = deps.byoc_binary;
  local.server_url = deps.server_url;
  local.plane_urls = deps.plane_urls;
  local.stop_agents_on_shutdown = deps.stop_local_agents_on_shutdown;
  local.issue_join_token = deps.issue_join_token;
  local.clock = deps.clock;
  out["local"] = std::make_unique<LocalDriver>(local);
  out["external"] = std::make_unique<ExternalDriver>();
  aws::AwsDriverOptions aws_options;
  if (deps.env) aws_options.env = deps.env;
  aws_options.clock = deps.clock;
  aws_options.issue_join_token = deps.issue_join_token;
  aws_options.plane_urls = [deps] {
    std::vector<std::string> urls = deps.plane_urls ? deps.plane_urls() : std::vector<std::string>{};
    return urls.empty() ? std::vector<std::string>{deps.server_url} : urls;
  };
  aws_options.record_cluster_access = deps.record_cloud_access;
  aws::read_driver_settings(aws_options.env, aws_options);
  if (!deps.agent_image.empty()) aws_options.agent_image = deps.agent_image;
  out["aws"] = std::make_unique<aws::AwsDriver>(std::move(aws_options));
  for (const auto& [name, traits] : clouds())
    if (!out.count(name)) throw Error::Internal("cloud " + name + " has no driver");
  for (const auto& [name, driver] : out)
    if (!find_cloud(name)) throw Error::Internal("driver " + name + " has no traits");
  return out;
}

std::map<std::string, CloudDriver*> driver_pointers(const std::map<std::string, std::unique_ptr<CloudDriver>>& drivers) {
  std::map<std::string, CloudDriver*> out;
  for (const auto& [name, driver] : drivers) out[name] = driver.get();
  return out;
}

}  // namespace byoc::cloud
