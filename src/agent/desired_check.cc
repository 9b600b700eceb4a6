#include "agent/desired_check.h"

namespace byoc::agent {

std::string refusal_reason(const model::DesiredService& service) {
  // The local runtime runs one replica per service in this version.
  if (service.shards != 1 || service.replicas != 1) return "unsupported_topology";
  if (service.clickhouse_version != "18.16.1") return "unsupported_version";
  return "";
}

}  // namespace byoc::agent
