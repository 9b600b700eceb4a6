#include "agent/support_gateway.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/state_layout.h"
#include "base/crypto.h"
#include "base/error.h"

namespace byoc::agent {
namespace {
// Backdated like the certificates: a gateway whose clock is a little behind
// must not find the CRL "not yet valid" (which refuses everyone).
constexpr std::chrono::seconds kCrlBackdate{60};

// Listening on every address: the gateways' runtime routes to the agent
// itself (a cluster's Service), no address of ours names it.
bool every_address(const std::string& host) { return host == "0.0.0.0" || host == "::"; }

model::KubeRequest kube_request_of(const KubeAuditEntry& e) {
  model::KubeRequest r;
  r.request_id = e.request_id;
  r.serial = e.serial;
  r.verb = e.verb;
  r.api_group = e.api_group;
  r.resource = e.resource;
  r.subresource = e.subresource;
  r.namespace_name = e.namespace_name;
  r.name = e.name;
  r.path = e.path;
  r.decision = e.decision;
  r.status = e.status;
  return r;
}

}  // namespace

SupportGatewayKeeper::SupportGatewayKeeper(const std::filesystem::path& state_dir, const SupportAccess& access,
                                           const Clock& clock, GatewayListening listening)
    : access_(access),
      clock_(clock),
      listening_(std::move(listening)),
      denials_(state_dir / layout::kGatewayDenials, clock),
      kube_requests_(state_dir / layout::kKubeRequests, clock),
      // A new key for each agent process: only the nginx configs this
      // process renders hold it.
      check_key_(crypto::hex(crypto::random_bytes(32))) {}

void SupportGatewayKeeper::start() {
  if (check_) return;
  try {
    check_ = std::make_unique<GatewayCheckServer>(
        check_key_,
        // Nothing is admitted while the customer's policy refuses support,
        // even by a gateway whose config could not be rewritten yet.
        [this](const std::string& serial) {
          auto grant = enabled_.load() ? access_.active_grant(serial) : std::nullopt;
          return grant ? grant->scope : std::string();
        },
        [this](const std::string& service, const std::string& reason, const std::string& serial) {
          denials_.record(service, reason, serial);
        },
        GatewayCheckLimits{}, listening_.check_port,
        [this](const std::string& pem) { return crypto::signed_by(pem, access_.ca_pem()); }, listening_.host);
    spdlog::info("support gateway check listening on {}:{}", listening_.host, check_->port());
  } catch (const Error& e) {
    spdlog::error("cannot start the support gateway check ({}); support gateways stay off", e.what());
  }
}

void SupportGatewayKeeper::stop() {
  if (kube_proxy_) kube_proxy_->stop();
  if (check_) check_->stop();
}

std::optional<KubeSupportGrant> SupportGatewayKeeper::kube_grant(const std::string& serial) const {
  if (!enabled_.load()) return std::nullopt;
  auto grant = access_.active_grant(serial);
  if (!grant) return std::nullopt;
  return KubeSupportGrant{grant->request_id, grant->scope, grant->not_after};
}

void SupportGatewayKeeper::run_kube_proxy(bool support_on) {
  if (!support_on || !check_ || !listening_.kubernetes_api) {
    if (kube_proxy_) {
      kube_proxy_->stop();
      kube_proxy_.reset();
      spdlog::info("kubernetes support proxy stopped");
    }
    return;
  }
  if (kube_proxy_) return;
  KubeSupportProxyOptions options;
  options.listen_host = listening_.host;
  options.port = listening_.kube_proxy_port;
  options.check_key = check_key_;
  options.api = *listening_.kubernetes_api;
  options.grant = [this](const std::string& serial) { return kube_grant(serial); };
  options.audit = [this](const KubeAuditEntry& entry) { kube_requests_.record(kube_request_of(entry)); };
  try {
    kube_proxy_ = std::make_unique<KubeSupportProxy>(std::move(options));
    spdlog::info("kubernetes support proxy listening on {}:{}", listening_.host, kube_proxy_->port());
  } catch (const Error& e) {
    // Tried again with the next report; meanwhile /k8s/ finds nobody: closed.
    spdlog::error("cannot start the kubernetes support proxy: {}", e.what());
  }
}

SupportGateway SupportGatewayKeeper::current() {
  SupportGateway g;
  enabled_ = check_ && access_.reported_policy().support_access;
  run_kube_proxy(enabled_);
  if (!enabled_) return g;
  std::vector<std::string> serials = access_.revoked_serials();
  std::sort(serials.begin(), serials.end());
  const TimePoint now = clock_.system_time();
  if (crl_pem_.empty() || serials != crl_serials_ || now - crl_made_ >= kCrlRefresh || now < crl_made_) {
    crl_pem_ = access_.make_crl(now - kCrlBackdate, now + kCrlValidity);
    crl_serials_ = std::move(serials);
    crl_made_ = now;
  }
  g.enabled = true;
  g.ca_pem = access_.ca_pem();
  g.crl_pem = crl_pem_;
  if (!every_address(listening_.host)) {
    const std::string& host = listening_.host;
    g.check_address = (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" +
                      std::to_string(check_->port());
  }
  g.check_key = check_key_;
  return g;
}

}  // namespace byoc::agent
