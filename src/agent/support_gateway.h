// SupportGatewayKeeper: the agent's side of its services' support gateways
// (runtime.h SupportGateway, docs/access.md). It runs the gateway check
// nginx asks about every request (support_gateway_check.h), keeps the
// ledger of the refusals it counts (gateway_denials.h), and says what every
// gateway must enforce now: on while the customer's policy.json allows
// support access, the support CA, and a CRL listing the certificates of
// grants that left the desired state. Where the services run on a
// Kubernetes API it also runs, while support access is on, the
// kubernetes-readonly proxy the gateways hand /k8s/ to
// (kube_support_proxy.h), with the ledger of every request it decides
// (kube_requests.h).
//
// The CRL is signed anew whenever that list changes and at least every
// kCrlRefresh, valid for kCrlValidity: nginx refuses every client once a
// CRL is past its next update, so it is refreshed six days before that (a
// new CRL reloads every service's nginx: daily, not more often). Revocation
// does not wait for the CRL: the per-request check refuses a grant that left
// the desired state at once, and refuses everyone while the agent is down
// (nginx can't ask) or policy.json refuses support (checked by the agent
// whatever the gateways' configs say).
//
// Threading: start(), current() and stop() from one thread (the agent's
// sync loop); denials() and kube_requests() are thread-safe as their
// ledgers are.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/gateway_denials.h"
#include "agent/kube_requests.h"
#include "agent/kube_support_proxy.h"
#include "agent/runtime.h"
#include "agent/support_access.h"
#include "agent/support_gateway_check.h"
#include "base/clock.h"

namespace byoc::agent {

// Where the gateways reach the agent, and what lies behind them.
struct GatewayListening {
  // An IP address (runtimes/registry.h RuntimeChoice::gateway_listen_host).
  std::string host = "127.0.0.1";
  uint16_t check_port = 0;  // 0: any free port (the runtime is told which)
  // The API server the kubernetes-readonly scope fronts, with the agent's
  // credentials; none: no proxy runs.
  std::optional<kube::ClientConfig> kubernetes_api;
  uint16_t kube_proxy_port = kKubeSupportProxyPort;
};

class SupportGatewayKeeper {
 public:
  static constexpr std::chrono::hours kCrlValidity{7 * 24};
  static constexpr std::chrono::hours kCrlRefresh{24};

  SupportGatewayKeeper(const std::filesystem::path& state_dir, const SupportAccess& access, const Clock& clock,
                       GatewayListening listening = {});

  // Starts the check on its host and port. A check that can't start leaves
  // every gateway off (logged): nothing would be admitted anyway.
  void start();
  void stop();

  // What the gateways must be now (a fresh CRL when due). Starts the
  // Kubernetes proxy when support access turns on (and retries one that
  // could not start), stops it — ending every answer it streams — when
  // support access turns off.
  SupportGateway current();

  GatewayDenials& denials() { return denials_; }
  KubeRequests& kube_requests() { return kube_requests_; }
  // The proxy's port while it runs; 0 otherwise.
  uint16_t kube_proxy_port() const { return kube_proxy_ ? kube_proxy_->port() : 0; }

 private:
  // The grant a certificate serial belongs to, for the proxy: none while
  // policy.json refuses support.
  std::optional<KubeSupportGrant> kube_grant(const std::string& serial) const;
  void run_kube_proxy(bool support_on);

  const SupportAccess& access_;
  const Clock& clock_;
  const GatewayListening listening_;
  GatewayDenials denials_;
  KubeRequests kube_requests_;
  std::string check_key_;
  std::atomic<bool> enabled_{false};  // as current() last found policy.json
  std::unique_ptr<GatewayCheckServer> check_;
  std::unique_ptr<KubeSupportProxy> kube_proxy_;
  std::vector<std::string> crl_serials_;  // what crl_pem_ lists
  std::string crl_pem_;
  TimePoint crl_made_{};
};

}  // namespace byoc::agent
