// The kubeconfig `byoc access kubeconfig` writes for a kubernetes-readonly
// grant (docs/access.md): kubectl talks to a support gateway of the grant's
// environment under /k8s, verifies the gateway against the environment CA
// and shows the grant's client certificate, whose key never left this
// machine. JSON, which kubectl reads as the YAML it is.
//
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace byoc::cli {

struct SupportKubeconfig {
  std::string request_id;      // names the context and the user
  std::string environment;     // names the cluster
  std::string gateway;         // https://HOST:PORT of a support gateway
  std::string ca_pem;          // the environment CA: what the gateway's server certificate chains to
  std::string certificate_pem;  // the grant's client certificate
  std::string key_pem;         // its key
};

nlohmann::json support_kubeconfig(const SupportKubeconfig& config);

// The support gateway to use from a certificate answer (GET
// /v1/access-requests/{id}/certificate: `gateways`, each with its service's
// `state`): a READY service's, else any service's — a service is
// PROVISIONING for a while after every change of the environment, a new
// grant included, and its gateway answers meanwhile. Throws byoc::Error
// (not found) when no service has one.
std::string pick_support_gateway(const nlohmann::json& issued);

}  // namespace byoc::cli
