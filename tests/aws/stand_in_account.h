// A customer's AWS account as tests see it, behind FakeAws: STS (the
// onboarding role, assumed with any ExternalId unless refused), IAM's
// SimulatePrincipalPolicy evaluated against byoc's own onboarding policies
// as CloudFormation would deploy them (account 123456789012, eu-west-1),
// EC2's zones, offerings, VPCs and addresses, Service Quotas, and EKS's
// cluster list. One permission can be taken away, the trust refused.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fake_aws.h"

namespace byoc::testing {

// An EC2-protocol answer: <{Op}Response>inner</{Op}Response>.
CannedResponse ec2_answer(const std::string& operation, const std::string& inner);
// The values of a query list parameter (NAME.member.1, NAME.member.2…).
std::vector<std::string> members(std::map<std::string, std::string>& form, const std::string& name);
// Whether byoc's onboarding policies, deployed in 123456789012 / eu-west-1
// for role ByocManagementRole, allow `action` on `resource` in `context`.
bool policy_allows(const std::string& action, const std::string& resource,
                   const std::map<std::string, std::vector<std::string>>& context);

class StandInAccount {
 public:
  // Held while answering; a test changing the fields below while a server
  // calls takes it too.
  std::mutex mutex;
  std::string denied_action = "cloudformation:CreateStack";
  bool trust_refused = false;
  int vpcs_in_use = 5;  // of a quota of 5
  std::string offered_type = "m6i.xlarge";  // in zones a and b
  std::vector<std::string> simulated;  // every ActionNames entry asked about

  CannedResponse operator()(const RecordedRequest& r);
};

}  // namespace byoc::testing
