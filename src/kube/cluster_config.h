// Where a kube::Client gets its server, CA and credentials: the two ways
// kubectl and client-go find a cluster.
//
// In-cluster: a pod's service account. The kubelet mounts a token, the
// cluster's CA and the pod's namespace under
// /var/run/secrets/kubernetes.io/serviceaccount, and every pod's environment
// names the API Service (KUBERNETES_SERVICE_HOST / _PORT). The token is
// projected and rotated by the kubelet, so the provider reads the file again
// rather than keeping the first token.
//
// Kubeconfig: the YAML file kubectl reads (apiVersion v1, kind Config), one
// context of it. Only what byoc can honour exactly is accepted: an https
// server, one CA given in the file (byoc trusts exactly the cluster's CA, never
// the system roots, never no verification), and a bearer token or a client
// certificate. Exec credential plugins (`aws eks get-token`…) and auth-provider
// plugins are not run, basic auth, impersonation, proxies and a TLS server
// name override are not supported: such a file is refused with
// kube_config_unsupported, naming the field, rather than half-used.
//
// Files are read once, at load time, except the token files (the
// service-account token and a user's tokenFile), which the token provider
// reads again. Every read is bounded; no error message holds a token or key.
//
// Errors are byoc::Error:
//   kInvalid "kube_not_in_cluster"           KUBERNETES_SERVICE_HOST/_PORT unset
//                                            (or the port no number)
//   kInvalid "kube_service_account_invalid"  a service-account file missing,
//                                            unreadable, empty or too large
//   kInvalid "kube_config_invalid"           a kubeconfig unreadable, too large,
//                                            malformed, or missing what's needed
//   kInvalid "kube_config_unsupported"       a kubeconfig asking for what byoc
//                                            doesn't do (see above)
//   kInvalid "kube_context_unknown"          no such context (or none chosen)
//   kUnavailable                             a token file unreadable or empty
//                                            when the provider reads it again
// with field() naming the file or the kubeconfig field ("users[0].user.exec").
//
// Thread-safety: the functions are; so are the token providers they return.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "kube/client.h"

namespace byoc {
class Clock;
}

namespace byoc::kube {

// Bounds on what is read: larger files are refused, not truncated.
inline constexpr size_t kMaxKubeconfigBytes = 1 << 20;
inline constexpr size_t kMaxKubeconfigListEntries = 256;  // clusters, contexts, users
inline constexpr size_t kMaxTokenFileBytes = 64 << 10;
inline constexpr size_t kMaxPemFileBytes = 1 << 20;  // CA bundles, client certificates and keys

// The process's environment: ::getenv, nullopt for an unset variable.
std::optional<std::string> process_environment(const char* name);

// How long a token read from a file is kept when a clock is given (below).
inline constexpr std::chrono::seconds kTokenFileCacheTime{60};

// Where a pod finds its cluster; tests point it at a scratch directory and a
// made-up environment.
struct InClusterSources {
  // Holds `token`, `ca.crt` and `namespace`.
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::function<std::optional<std::string>(const char*)> getenv = process_environment;
  // With a clock, the token provider keeps a token for kTokenFileCacheTime
  // (client-go's minute: the kubelet rotates the file well before the token
  // expires, so a minute-old read is still good) instead of reading the file
  // for every request. Must outlive every provider made with it. Without one,
  // every call reads the file: always fresh, and cheap (a small tmpfs file).
  const Clock* clock = nullptr;
};

// https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT (an IPv6 host in
// brackets), the service account's CA, and a provider of its current token.
// The token file is read once here too, so a pod without one fails now.
ClientConfig in_cluster_config(const InClusterSources& sources = {});

// The pod's namespace, from the service account's `namespace` file.
std::string in_cluster_namespace(const InClusterSources& sources = {});

// One context of a kubeconfig, resolved.
struct KubeconfigResult {
  ClientConfig client;         // server, CA, and a token provider and/or client certificate
  std::string namespace_name;  // the context's namespace; "default" when it names none (as kubectl)
  std::string context;         // the context used: the one asked for, or current-context
};

// Loads `context` of the kubeconfig at `path` (its current-context when
// empty). Relative file references (certificate-authority, client-certificate,
// client-key, tokenFile) are relative to the kubeconfig's directory, as in
// kubectl. Where both are given, the inline *-data (base64 PEM) wins over
// the file (as in client-go); token and tokenFile together are refused. A tokenFile is read here (to fail now) and again for every token.
KubeconfigResult kubeconfig_config(const std::filesystem::path& path, const std::string& context = "");

}  // namespace byoc::kube
