// STS over the Client: the StsApi the credential providers use (AssumeRole
// with an ExternalId into a customer's account, web identity on EKS), and
// GetCallerIdentity, which says whose credentials these are.
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/client.h"
#include "cloud/aws/credentials.h"

namespace byoc::aws {

struct CallerIdentity {
  std::string account;
  std::string arn;
  std::string user_id;
};

class Sts final : public StsApi {
 public:
  // `base` names the region, endpoint environment, transport, clock and
  // retries; its service and credentials are set per call.
  explicit Sts(ClientOptions base);

  Credentials assume_role(const AssumeRoleParams& params, const Credentials& caller) override;
  Credentials assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                                            const std::string& web_identity_token) override;
  CallerIdentity caller_identity(std::shared_ptr<CredentialsProvider> credentials);

 private:
  ClientOptions base_;
};

}  // namespace byoc::aws
