#include "cloud/aws/driver/driver_options.h"

#include <algorithm>
#include <cstdlib>

#include "base/error.h"
#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::aws {

std::vector<std::string> comma_list(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    size_t comma = std::min(text.find(',', at), text.size());
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

void read_driver_settings(const EnvLookup& env, AwsDriverOptions& options) {
  auto value = [&](std::string_view name) { return env_value(env, name).value_or(""); };
  if (auto v = value("BYOC_AWS_MANAGEMENT_ACCOUNT"); !v.empty()) {
    check_account_id(v, "BYOC_AWS_MANAGEMENT_ACCOUNT");
    options.management_account = v;
  }
  if (auto v = value("BYOC_AWS_MANAGEMENT_PRINCIPAL"); !v.empty()) options.management_principal = v;
  if (auto v = value("BYOC_AWS_ONBOARDING_TEMPLATE_URL"); !v.empty()) {
    if (v.rfind("https://", 0) != 0)
      throw Error::Invalid("invalid_value", "must be an https URL", "BYOC_AWS_ONBOARDING_TEMPLATE_URL");
    options.onboarding_template_url = v;
  }
  if (auto v = value("BYOC_AWS_API_ALLOWED_CIDRS"); !v.empty()) options.api_allowed_cidrs = comma_list(v);
  if (auto v = value("BYOC_AGENT_IMAGE"); !v.empty()) options.agent_image = v;
  auto seconds = [&](std::string_view name, std::chrono::milliseconds& out) {
    std::string v = value(name);
    if (v.empty()) return;
    char* end = nullptr;
    double s = std::strtod(v.c_str(), &end);
    if (end != v.c_str() + v.size() || !(s >= 0.05 && s <= 3600))
      throw Error::Invalid("invalid_value", "must be a number of seconds from 0.05 to 3600", std::string(name));
    out = std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
  };
  seconds("BYOC_AWS_STACK_POLL_SECONDS", options.stack_poll);
  seconds("BYOC_AWS_CHECK_SECONDS", options.check_again);
}

}  // namespace byoc::aws
