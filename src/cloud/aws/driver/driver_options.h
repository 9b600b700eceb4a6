// What the AWS driver is configured with. The AWS side (endpoints, trust,
// credentials, region defaults) is read as the AWS CLI reads it (session.h);
// byoc's own settings come from BYOC_AWS_* variables of the server's
// environment, so one server process is configured in one way:
//
//   BYOC_AWS_MANAGEMENT_ACCOUNT      the vendor's 12-digit account: the onboarding
//                                    template's trust (shown to customers)
//   BYOC_AWS_MANAGEMENT_PRINCIPAL    the one role of it the template trusts
//                                    (default role/byoc-management-plane)
//   BYOC_AWS_ONBOARDING_TEMPLATE_URL where the onboarding template is published
//                                    (https, S3): makes the quick-create link
//   BYOC_AWS_API_ALLOWED_CIDRS       the plane's NAT addresses (comma-separated):
//                                    the only sources the EKS API admits
//   BYOC_AGENT_IMAGE                 the agent's container image (`--agent-image`)
//   BYOC_AWS_STACK_POLL_SECONDS      how soon to look at a changing stack again
//                                    (default 15; the controller backs off from it)
//   BYOC_AWS_CHECK_SECONDS           how soon to check a customer's grant again
//                                    (default 60)
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/clock.h"
#include "cloud/aws/credentials.h"

namespace byoc::aws {

struct AwsDriverOptions {
  EnvLookup env = process_environment();
  const Clock* clock = nullptr;  // required
  std::string management_account;
  std::string management_principal;
  std::string onboarding_template_url;
  std::vector<std::string> api_allowed_cidrs;
  std::string agent_image;
  // Mints a join token for an environment's agent (the bootstrap's Secret).
  std::function<std::string(const std::string& environment_id)> issue_join_token;
  // The plane's URLs the agent dials (every live server).
  std::function<std::vector<std::string>()> plane_urls;
  // Records, in the environment's audit log, that the plane reached into
  // the customer's cluster (what it did there and as whom), before it does.
  std::function<void(const std::string& environment_id, const nlohmann::json& event)> record_cluster_access;
  std::chrono::milliseconds stack_poll{15'000};
  std::chrono::milliseconds check_again{60'000};
  // How AWS retries wait (tests: a ManualClock's); default: the clock's.
  std::function<void(std::chrono::milliseconds)> sleep;
};

// "a,b,,c" → {"a", "b", "c"}: a comma-separated list (a setting, a stack
// output), its empty items dropped.
std::vector<std::string> comma_list(const std::string& text);

// The BYOC_AWS_* settings of `env` (others are left as they are). Throws
// byoc::Error kInvalid naming the variable for a malformed one.
void read_driver_settings(const EnvLookup& env, AwsDriverOptions& options);

}  // namespace byoc::aws
