#include "agent/support_gateway.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/crypto.h"
#include "base/error.h"

namespace byoc::agent {
namespace {
// Backdated like the certificates: a gateway whose clock is a little behind
// must not find the CRL "not yet valid" (which refuses everyone).
constexpr std::chrono::seconds kCrlBackdate{60};
}  // namespace

SupportGatewayKeeper::SupportGatewayKeeper(const std::filesystem::path& state_dir, const SupportAccess& access,
                                           const Clock& clock)
    : access_(access),
      clock_(clock),
      denials_(state_dir / "gateway-denials.json", clock),
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
        [this](const std::string& serial) { return enabled_.load() && access_.granted(serial); },
        [this](const std::string& service, const std::string& reason, const std::string& serial) {
          denials_.record(service, reason, serial);
        },
        GatewayCheckLimits{}, 0,
        [this](const std::string& pem) { return crypto::signed_by(pem, access_.ca_pem()); });
    spdlog::info("support gateway check listening on 127.0.0.1:{}", check_->port());
  } catch (const Error& e) {
    spdlog::error("cannot start the support gateway check ({}); support gateways stay off", e.what());
  }
}

void SupportGatewayKeeper::stop() {
  if (check_) check_->stop();
}

SupportGateway SupportGatewayKeeper::current() {
  SupportGateway g;
  enabled_ = check_ && access_.reported_policy().support_access;
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
  g.check_address = "127.0.0.1:" + std::to_string(check_->port());
  g.check_key = check_key_;
  return g;
}

}  // namespace byoc::agent
