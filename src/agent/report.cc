#include "agent/report.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>

namespace byoc::agent {
namespace {

// Highest ClickHouse error code the protocol carries.
constexpr int kMaxErrorCode = 100000;

std::string allowed_reason(const std::string& service, const std::string& reason) {
  const auto& codes = model::reason_codes();
  if (std::find(codes.begin(), codes.end(), reason) != codes.end()) return reason;
  spdlog::warn("service {}: reason '{}' is not a protocol reason code; reporting 'unknown'", service, reason);
  return "unknown";
}


}  // namespace

std::vector<model::ReportedService> reported_services(const model::DesiredState& desired,
                                                      const std::vector<ServiceStatus>& observed,
                                                      const std::map<std::string, std::string>& outcomes) {
  std::vector<model::ReportedService> out;
  for (const auto& svc : desired.services) {
    model::ReportedService r{svc.name, "PROVISIONING", "starting", "", "", {}};
    auto outcome = outcomes.find(svc.name);
    auto seen =
        std::find_if(observed.begin(), observed.end(), [&](const auto& o) { return o.name == svc.name; });
    if (seen != observed.end()) {
      r.state = to_string(seen->state);
      r.reason = seen->reason;
      r.endpoint = model::is_https_endpoint(seen->endpoint) ? seen->endpoint : "";
      r.native_endpoint = model::is_native_endpoint(seen->native_endpoint) ? seen->native_endpoint : "";
      r.support_gateway = model::is_https_endpoint(seen->support_gateway) ? seen->support_gateway : "";
      r.rollout = seen->rollout;
      for (const auto& rep : seen->replicas) {
        if (rep.shard < 1 || rep.shard > 64 || rep.replica < 1 || rep.replica > 16) continue;
        int code = rep.last_error_code >= 0 && rep.last_error_code <= kMaxErrorCode ? rep.last_error_code : 0;
        r.replicas.push_back({rep.shard, rep.replica, to_string(rep.state), code});
      }
    } else if (outcome != outcomes.end()) {
      r.state = "FAILED";  // refused with nothing older to run
    }
    if (outcome != outcomes.end()) r.reason = outcome->second;
    r.reason = allowed_reason(svc.name, r.reason);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace byoc::agent
