// SupportGatewayKeeper: the agent's side of its services' support gateways
// (runtime.h SupportGateway, docs/access.md). It runs the gateway check
// nginx asks about every request (support_gateway_check.h), keeps the
// ledger of the refusals it counts (gateway_denials.h), and says what every
// gateway must enforce now: on while the customer's policy.json allows
// support access, the support CA, and a CRL listing the certificates of
// grants that left the desired state.
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
// sync loop); denials() is thread-safe as GatewayDenials is.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/gateway_denials.h"
#include "agent/runtime.h"
#include "agent/support_access.h"
#include "agent/support_gateway_check.h"
#include "base/clock.h"

namespace byoc::agent {

class SupportGatewayKeeper {
 public:
  static constexpr std::chrono::hours kCrlValidity{7 * 24};
  static constexpr std::chrono::hours kCrlRefresh{24};

  SupportGatewayKeeper(const std::filesystem::path& state_dir, const SupportAccess& access, const Clock& clock);

  // Starts the check on a free loopback port. A check that can't start
  // leaves every gateway off (logged): nothing would be admitted anyway.
  void start();
  void stop();

  // What the gateways must be now (a fresh CRL when due).
  SupportGateway current();

  GatewayDenials& denials() { return denials_; }

 private:
  const SupportAccess& access_;
  const Clock& clock_;
  GatewayDenials denials_;
  std::string check_key_;
  std::atomic<bool> enabled_{false};  // as current() last found policy.json
  std::unique_ptr<GatewayCheckServer> check_;
  std::vector<std::string> crl_serials_;  // what crl_pem_ lists
  std::string crl_pem_;
  TimePoint crl_made_{};
};

}  // namespace byoc::agent
