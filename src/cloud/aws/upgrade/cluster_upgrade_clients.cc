#include "cloud/aws/upgrade/cluster_upgrade_clients.h"

namespace byoc::aws {

std::vector<plan::upgrade::Pod> ClickHousePodMarks::list_pods_on_node(const std::string& node) {
  std::vector<plan::upgrade::Pod> pods = inner_.list_pods_on_node(node);
  for (plan::upgrade::Pod& pod : pods) {
    auto app = pod.labels.find("app.kubernetes.io/name");
    if (app == pod.labels.end() || app->second != "clickhouse" || !pod.labels.contains(plan::upgrade::kServiceLabel))
      continue;
    pod.labels.try_emplace(plan::upgrade::kComponentLabel, "clickhouse");
    pod.annotations.try_emplace(plan::upgrade::kDrainSecondsAnnotation,
                                std::to_string(std::chrono::seconds(kDefaultDrain).count()));
  }
  return pods;
}

}  // namespace byoc::aws
