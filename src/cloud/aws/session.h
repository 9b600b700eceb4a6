// Session: the management plane's way into AWS, configured from the
// environment as the AWS CLI is — endpoints (AWS_ENDPOINT_URL*), trust
// (AWS_CA_BUNDLE), region (AWS_REGION, AWS_DEFAULT_REGION, the profile's)
// and credentials (the default chain of credentials.h). One place builds
// these for every caller (the CLI's `byoc aws` commands, the server's
// driver), so they all read the same variables the same way.
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/client.h"
#include "cloud/aws/sts.h"

namespace byoc::aws {

class Session {
 public:
  // `region` empty: the configured one (an error when there is none). Throws
  // byoc::Error kInvalid for a bad AWS_CA_BUNDLE, endpoint or region.
  Session(EnvLookup env, const Clock& clock, std::string region = "");
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Options for a client of `service` with the plane's own credentials.
  ClientOptions options(Service service = Service::kSts) const;
  const std::string& region() const { return region_; }

 private:
  EnvLookup env_;
  const Clock& clock_;
  std::string region_;
  std::unique_ptr<Transport> https_;  // AWS's endpoints, trusting AWS_CA_BUNDLE or the system store
  std::unique_ptr<Transport> local_;  // the instance metadata and container credential endpoints (plain HTTP)
  std::unique_ptr<Sts> sts_;
  std::shared_ptr<CredentialsProvider> credentials_;
};

}  // namespace byoc::aws
