// KubeSupportProxy: the `kubernetes-readonly` half of the support gateway
// (docs/access.md). A vendor engineer's kubectl talks HTTPS to a service's
// support gateway (nginx: client certificate from the environment's support
// CA, checked against its CRL) under the path prefix /k8s/; nginx hands
// those requests, prefix removed, to this proxy in the agent over the
// cluster's network with the gateway's check key and the certificate's
// verification result and serial. For each request the proxy
//   1. checks the key (else 401, not audited: it did not come from our nginx);
//   2. checks that the certificate belongs to a grant active now whose scope
//      is kubernetes-readonly (else 403 grant_inactive / scope_mismatch);
//   3. reads the request as the API server's authorizer would
//      (kube/api_request.h) and refuses what the read-only role does not
//      grant — writes, secrets, configmaps, exec/attach/portforward, proxies,
//      tokens, ephemeral containers, anything outside the troubleshooting
//      set, any request with a body (403 with the refusal's code);
//   4. forwards what is left to the API server with the agent's own
//      credentials, as user byoc-support in group byoc:support-readonly with
//      the grant's id in the extra byoc-grant (kube/support_rbac.h), so the
//      API server's RBAC applies the read-only ClusterRole again and its own
//      audit log names the grant; nothing the client sent about identity
//      (Authorization, Impersonate-*) is passed on;
//   5. streams the answer back as it arrives (a watch, logs -f): the head
//      as soon as the API server sent it, each piece as it comes — for no
//      longer than the grant lasts, and no longer than the grant stays: about
//      once a second the proxy looks the grant up again (present, same id,
//      same scope, not expired) and cuts the stream of one revoked, as it
//      does of a client that hung up (the chunked answer then ends without
//      its last chunk, which the client sees). A HEAD is forwarded as a HEAD
//      and answered without a body;
// and hands every decision to `audit` (verb, resource, namespace, name,
// decision, status — never a body or a query value): a refusal when made, a
// forwarded request when the API server's head arrives ("allowed" with its
// status, while a watch may stream on for minutes), "upstream_unavailable"
// (502) when no head came (nor a token for the API: api.token threw), and
// "grant_inactive" (403) when the grant ended before the API server answered.
//
// Timeouts: a connection must send its whole request head within
// read_timeout of being accepted, else it is closed unanswered; each write
// to the client (a head, one piece of a stream, a refusal) must be taken
// within write_timeout, else the connection ends. So clients that send or read
// nothing hold a connection slot for no longer than that.
//
// Threading: one thread accepts; each connection gets a thread of its own
// (a watch lasts minutes), at most max_connections at once (more are
// answered 503 and closed, as are connections for which no thread can be
// started); one janitor thread rechecks streaming connections. `grant` is
// called on the connections' threads and the janitor's, `audit` on the
// connections'. stop() ends every connection promptly, whatever it waits on
// (the client, or the API server).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kube/client.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::agent {

// What the proxy needs of the grant a certificate belongs to.
struct KubeSupportGrant {
  std::string request_id;  // acc-<16 hex>: the Impersonate-Extra-byoc-grant value
  std::string scope;       // model::kScopeKubernetesReadonly to be let through
  int64_t not_after = 0;   // Unix seconds: no answer streams past it
};
// The active grant of a certificate serial (normalized_serial()), if any.
using KubeGrantLookup = std::function<std::optional<KubeSupportGrant>(const std::string& serial)>;

// One request the proxy decided on.
struct KubeAuditEntry {
  std::string request_id;  // the grant's; "" when no grant was found
  std::string serial;      // normalized
  std::string verb;        // RBAC verb ("get", "list", "watch", "create"…) or the method, lowercased
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string namespace_name;
  std::string name;
  std::string path;        // non-resource requests only ("/version")
  std::string decision;    // "allowed", or the refusal's code
  int status = 0;          // the status answered (the API server's when forwarded)
};
using KubeAuditSink = std::function<void(const KubeAuditEntry&)>;

struct KubeSupportProxyOptions {
  std::string listen_host = "0.0.0.0";  // the pod's addresses: nginx runs in other pods
  uint16_t port = 0;                    // 0: any free port
  std::string check_key;                // 64 hex, as the gateway check's
  kube::ClientConfig api;               // the agent's own: server, CA, token
  KubeGrantLookup grant;
  KubeAuditSink audit;
  size_t max_connections = 32;
  size_t header_limit = 64 * 1024;
  std::chrono::milliseconds read_timeout{10'000};  // for the whole request head, from the accept
  // For each write to the client: an answer's head, one piece of a stream, a refusal.
  std::chrono::milliseconds write_timeout{30'000};
  // The longest any one answer streams (a watch, logs -f), grant or not.
  std::chrono::seconds max_answer_time{1800};
};

class KubeSupportProxy {
 public:
  // Listens and starts serving. Throws byoc::Error kInvalid for a bad check
  // key or missing callbacks, kUnavailable when the port can't be bound or
  // its threads can't be started.
  explicit KubeSupportProxy(KubeSupportProxyOptions options);
  ~KubeSupportProxy();  // stop()
  KubeSupportProxy(const KubeSupportProxy&) = delete;
  KubeSupportProxy& operator=(const KubeSupportProxy&) = delete;

  uint16_t port() const;
  // Stops accepting, ends every connection (and the upstream requests they
  // stream) and joins their threads, promptly whatever a connection waits
  // on. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The port the agent serves the proxy on in a cluster (its Service
// byoc-agent), where the rendered gateways send /k8s/.
inline constexpr uint16_t kKubeSupportProxyPort = render::kubernetes::kKubeProxyPort;

}  // namespace byoc::agent
