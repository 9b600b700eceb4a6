// Onboarding an aws environment, the pure parts: what the customer is shown
// (the ExternalId, the role ARN expected, how to get the template) and how a
// pre-flight report reads as an access check.
#pragma once

#include <map>
#include <string>

#include "cloud/aws/driver/driver_options.h"
#include "cloud/aws/preflight.h"
#include "cloud/driver.h"

namespace byoc::aws {

// Fills `account` (an environment's, in `region`): external_id once (random,
// never changed after), role_name (default ByocManagementRole), role_arn
// (once account_id is known), onboarding_template (the command that prints
// the template, when the management account is configured) and
// quick_create_url (when the template's published URL is configured).
void fill_onboarding(std::map<std::string, std::string>& account, const std::string& region,
                     const std::string& environment_name, const AwsDriverOptions& options);

// A pre-flight report as an access check: granted when nothing stands in
// the way; otherwise the reason (assume_role_denied, wrong_account,
// permissions_missing, preflight_failed) and a message naming each missing
// permission.
cloud::AccessCheck access_check_of(const PreflightReport& report);

}  // namespace byoc::aws
