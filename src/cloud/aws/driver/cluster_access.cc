#include "cloud/aws/driver/cluster_access.h"

#include "base/crypto.h"
#include "base/error.h"
#include "cloud/aws/eks_token.h"
#include "cloud/aws/endpoints.h"

namespace byoc::aws {
using nlohmann::json;

Cluster describe_cluster(Client& eks, const std::string& name) {
  json answer = eks.call("DescribeCluster", {{"name", name}});
  const json cluster = answer.value("cluster", json::object());
  Cluster c;
  c.name = name;
  c.endpoint = cluster.value("endpoint", "");
  c.status = cluster.value("status", "");
  std::string ca_b64 = cluster.value("certificateAuthority", json::object()).value("data", "");
  std::optional<std::string> ca = crypto::base64_decode(ca_b64);
  if (c.endpoint.empty() || !ca || ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw Error(ErrorKind::kUnavailable, "eks_cluster_not_ready",
                "EKS cluster " + name + " has no endpoint or certificate authority yet (status " +
                    (c.status.empty() ? "unknown" : c.status) + ")");
  c.ca_pem = *ca;
  return c;
}

std::unique_ptr<kube::Client> cluster_client(const Cluster& cluster, std::shared_ptr<CredentialsProvider> credentials,
                                             const std::string& region, const EnvLookup& env, const Clock& clock,
                                             std::function<void(std::chrono::milliseconds)> sleep) {
  const ServiceEndpoint sts = resolve_endpoint("STS", "sts", region, env);
  kube::ClientConfig config;
  config.server = cluster.endpoint;
  config.ca_pem = cluster.ca_pem;
  config.token = [credentials, sts, name = cluster.name, &clock] {
    return make_eks_token(credentials->credentials(), sts, name, clock.system_time()).token;
  };
  config.field_manager = "byoc";
  if (sleep) config.sleep = std::move(sleep);
  return std::make_unique<kube::Client>(std::move(config));
}

}  // namespace byoc::aws
