#include "cloud/aws/driver/onboarding.h"

#include "base/crypto.h"
#include "cloud/aws/sigv4.h"
#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::aws {
namespace {

std::string joined(const std::vector<std::string>& items, size_t most) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < most; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > most) out += " and " + std::to_string(items.size() - most) + " more";
  return out;
}

}  // namespace

void fill_onboarding(std::map<std::string, std::string>& account, const std::string& region,
                     const std::string& environment_name, const AwsDriverOptions& options) {
  // Unguessable, so no other customer of the vendor can name this role
  // (the confused deputy); shown to this customer, who puts it in the trust.
  if (account["external_id"].empty()) account["external_id"] = "byoc-" + crypto::hex(crypto::random_bytes(16));
  if (account["role_name"].empty()) account["role_name"] = kDefaultRoleName;
  const std::string& role_name = account["role_name"];
  const std::string& external_id = account["external_id"];
  account.erase("role_arn");
  if (!account["account_id"].empty())
    account["role_arn"] = "arn:" + partition_of(region) + ":iam::" + account["account_id"] + ":role/" + role_name;
  else
    account.erase("account_id");
  account.erase("onboarding_template");
  if (!options.management_account.empty()) {
    std::string command = "byoc aws onboarding-template --management-account " + options.management_account +
                          " --external-id " + external_id;
    if (!options.management_principal.empty()) command += " --management-principal " + options.management_principal;
    if (role_name != kDefaultRoleName) command += " --role-name " + role_name;
    account["onboarding_template"] = command;
  }
  account.erase("quick_create_url");
  if (!options.onboarding_template_url.empty()) {
    std::string url = onboarding_quick_create_url(region, options.onboarding_template_url,
                                                  "byoc-onboarding-" + environment_name, external_id);
    if (role_name != kDefaultRoleName) url += "&param_RoleName=" + uri_encode(role_name, false);  // '+' is not a blank
    account["quick_create_url"] = url;
  }
}

cloud::AccessCheck access_check_of(const PreflightReport& report) {
  cloud::AccessCheck check;
  check.details = report.to_json();
  if (report.ok()) {
    check.granted = true;
    check.message = "the role is in place: " + std::to_string(report.actions_simulated) + " actions allowed, " +
                    std::to_string(report.quotas_checked) + " quotas enough";
    return check;
  }
  std::vector<std::string> missing, others;
  for (const auto& f : report.findings) {
    if (f.code == "permission_missing") missing.push_back(f.subject);
    else others.push_back(f.message);
  }
  const auto& first = report.findings.front();
  if (first.code == "assume_role_denied" || first.code == "wrong_account") {
    check.reason = first.code;
    check.message = first.message;
  } else if (!missing.empty()) {
    check.reason = "permissions_missing";
    check.message = "the role lacks " + std::to_string(missing.size()) + " permission" +
                    (missing.size() == 1 ? "" : "s") + ": " + joined(missing, 12) +
                    ": update the onboarding stack to byoc's current template";
  } else {
    check.reason = "preflight_failed";
    check.message = joined(others, 3);
  }
  return check;
}

}  // namespace byoc::aws
