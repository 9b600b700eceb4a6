// SupportAccess: the customer's side of troubleshooting access. The agent
// makes the environment's support CA on its first start and keeps it in its
// state dir (key 0600; only the certificate ever leaves the environment),
// and decides each grant of the desired state once: it issues a client
// certificate for the grant's CSR only when the grant satisfies the
// customer's policy.json (access/grant_check.h), else refuses it with a
// reason code. Decisions are kept in the state dir, so a restart decides
// nothing twice; they go up with every status. A certificate whose grant
// left the desired state (revoked, done, expired) is revoked: its serial is
// listed until the certificate expires (the CRL's content).
//
// Certificates: subject CN = the engineer, O = the environment, OU = the
// grant; EKU clientAuth only; NotBefore backdated 60 s; NotAfter the grant's
// end, never beyond the CA's. Every scope's from the same CA: what a
// certificate may reach is its grant's scope, which the gateways ask for
// (active_grant()), never something the certificate says.
//
// Threading: decide() and the readers may be called from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/crypto.h"
#include "model/access.h"
#include "model/protocol.h"

namespace byoc::agent {

// The grant a certificate belongs to, while it is active.
struct ActiveGrant {
  std::string request_id;
  std::string scope;      // model::access_scopes()
  int64_t not_after = 0;  // Unix seconds: the certificate's end
  bool operator==(const ActiveGrant&) const = default;
};

class SupportAccess {
 public:
  // `served_scopes`: what this environment can reach (kubernetes-readonly
  // only with a Kubernetes API); a grant of another scope is refused
  // (scope_unsupported) whatever policy.json allows.
  SupportAccess(std::filesystem::path state_dir, std::string environment_id, const Clock& clock,
                std::vector<std::string> served_scopes = {model::kScopeClickhouseSystem});

  const std::string& ca_pem() const { return ca_.cert_pem; }

  // Decides every grant not decided yet, against policy.json as it is now
  // (an unreadable policy decides nothing: the grants wait). `refusal`, when
  // not empty, refuses every new grant with that code (e.g. the audit log
  // could not be verified).
  void decide(const std::vector<model::DesiredGrant>& grants, const std::string& refusal = "");

  // What became of each grant of the desired state, for the report.
  std::vector<model::ReportedGrant> outcomes() const;
  // Serials (lowercase hex) of certificates issued for grants no longer in
  // the desired state that have not expired yet.
  std::vector<std::string> revoked_serials() const;
  // The grant of `serial` (normalized_serial(): lowercase, no leading zeros)
  // when it belongs to an unexpired certificate of a grant in the desired
  // state (the gateways' per-request check); nullopt otherwise.
  std::optional<ActiveGrant> active_grant(const std::string& serial) const;
  // A CRL of revoked_serials() signed by the support CA (whose key stays in
  // here), valid from `this_update` to `next_update`.
  std::string make_crl(TimePoint this_update, TimePoint next_update) const;
  // The access part of policy.json, for the report (support off while the
  // file is invalid: nothing would be issued), with the scopes it allows
  // that this environment serves.
  model::ReportedAccessPolicy reported_policy() const;

 private:
  struct Decision {
    std::string state;  // issued | refused
    std::string serial;
    std::string certificate_pem;
    std::string reason;
    int64_t not_after = 0;
    bool desired = true;  // still in the desired state
    std::string scope;
  };
  Decision issue(const model::DesiredGrant& grant) const;
  void save_locked() const;

  std::filesystem::path state_dir_;
  std::string environment_id_;
  const Clock& clock_;
  const std::vector<std::string> served_scopes_;
  crypto::KeyedCertificate ca_;
  int64_t ca_not_after_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Decision> decisions_;  // by request id
};

}  // namespace byoc::agent
