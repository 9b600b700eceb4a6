// The one way the management plane reaches into a customer's environment:
// the EKS API of its cluster, to install the agent (bootstrap; later,
// audited break-glass). The cluster's endpoint and CA come from EKS's
// DescribeCluster; the bearer token is a presigned STS GetCallerIdentity of
// the onboarding role (eks_token.h), made afresh for each request. The EKS
// endpoint admits only the plane's NAT addresses (the stack's
// api_allowed_cidrs). Once the agent has joined, all routine work goes
// through the agent's own outbound channel instead.
#pragma once

#include <memory>
#include <string>

#include "cloud/aws/client.h"
#include "kube/client.h"

namespace byoc::aws {

struct Cluster {
  std::string name;
  std::string endpoint;  // https://…eks.amazonaws.com
  std::string ca_pem;    // the cluster's CA (DescribeCluster gives it base64-encoded)
  std::string status;    // ACTIVE once it serves
};

// DescribeCluster of `name`, through `eks` (a client of Service::kEks).
// Throws byoc::Error kUnavailable "eks_cluster_not_ready" when the answer
// lacks an endpoint or CA (the cluster is still being made).
Cluster describe_cluster(Client& eks, const std::string& name);

// A Kubernetes client of `cluster`, authenticated as `credentials` (the
// onboarding role's), its tokens signed for STS in `region` with `env`'s
// endpoints, on `clock`'s time.
std::unique_ptr<kube::Client> cluster_client(const Cluster& cluster, std::shared_ptr<CredentialsProvider> credentials,
                                             const std::string& region, const EnvLookup& env, const Clock& clock,
                                             std::function<void(std::chrono::milliseconds)> sleep);

}  // namespace byoc::aws
