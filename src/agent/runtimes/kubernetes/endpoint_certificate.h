// The certificate of a service's endpoint on Kubernetes: issued by the
// environment's CA for every name a client may reach the endpoint by — its
// Service's in-cluster names and, once the load balancer has one, its
// address — and kept in the Secret <s>-tls (kubernetes.io/tls) with those
// names in an annotation, so a changed address or an approaching end makes
// a new one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent::kube_runtime {

inline constexpr const char* kCertificateNamesAnnotation = "byoc.io/certificate-names";

struct EndpointNames {
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool operator==(const EndpointNames&) const = default;
  std::string joined() const;  // sorted, comma-separated: the annotation's value
};

// The in-cluster names of Service `service_name` in `namespace_name`, and the
// load balancer's hostname or address from the Service object (null: none yet).
EndpointNames endpoint_names(const std::string& service_name, const std::string& namespace_name,
                             const std::string& cluster_domain, const nlohmann::json* service);

// True when `secret` (null: none) holds a certificate and key issued by
// `ca_pem` for exactly `names`, valid for 30 more days.
bool certificate_usable(const nlohmann::json* secret, const EndpointNames& names, const std::string& ca_pem,
                        const Clock& clock);

// A new certificate (a year) for `names`.
crypto::KeyedCertificate issue_endpoint_certificate(const crypto::KeyedCertificate& ca, const EndpointNames& names,
                                                    const Clock& clock);

// When the certificate in `secret` is due for renewal (unix seconds: 30
// days before it ends); 0 when there is none to read.
int64_t certificate_renew_at(const nlohmann::json* secret);

// A short revision of the certificate in `secret` ("" when none): what rolls
// the endpoint's pods when it changes.
std::string certificate_revision(const nlohmann::json* secret);

}  // namespace byoc::agent::kube_runtime
