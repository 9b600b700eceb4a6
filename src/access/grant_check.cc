#include "access/grant_check.h"

#include <algorithm>
#include <set>

#include "access/access_request.h"
#include "base/crypto.h"

namespace byoc::access {
namespace {
constexpr int64_t kClockSkew = 60;
}  // namespace

std::string approval_text_of(const model::DesiredGrant& g, const std::string& environment_id,
                             const std::string& csr_key_sha256) {
  model::AccessRequest named;
  named.id = g.request_id;
  named.environment_id = environment_id;
  named.scope = g.scope;
  named.requester = g.requester;
  named.duration_seconds = g.duration_seconds;
  named.expires_at = g.approve_before;
  named.csr_public_key_sha256 = csr_key_sha256;
  return approval_text(named);
}

std::string grant_refusal(const model::DesiredGrant& g, const GrantRules& rules, const std::string& environment_id,
                          int64_t now) {
  auto listed = [&](const std::vector<std::string>& scopes) {
    return std::find(scopes.begin(), scopes.end(), g.scope) != scopes.end();
  };
  if (!listed(rules.served_scopes)) return "scope_unsupported";
  if (!rules.support_access) return "support_access_off";
  if (!listed(rules.allowed_scopes)) return "scope_not_allowed";
  if (g.not_after <= now) return "grant_expired";
  // Approved before its review deadline, and not for a window that opens later.
  if (g.not_before > g.approve_before || g.not_before > now + kClockSkew) return "grant_expired";
  if (g.duration_seconds > rules.max_grant_seconds || g.not_after - g.not_before > rules.max_grant_seconds ||
      g.not_after - g.not_before > g.duration_seconds)
    return "duration_too_long";
  std::string key_sha256;
  try {
    key_sha256 = crypto::csr_public_key_sha256_hex(g.csr_pem);
  } catch (const std::exception&) {
    return "bad_csr";
  }
  // The plane's record of the reviews, checked for coherence: at least one
  // (and the required number of) distinct approvers, none of them the
  // requester, and no denial.
  std::set<std::string> approvers;
  for (const auto& r : g.reviews) {
    if (r.decision == "deny") return "approvals_missing";
    if (r.role == "approver" && r.reviewer != g.requester) approvers.insert(r.reviewer);
  }
  if (approvers.empty() || static_cast<int>(approvers.size()) < g.required_approvals) return "approvals_missing";
  if (!rules.require_customer_approval) return "";
  if (g.customer_approval.empty()) return "customer_approval_missing";
  try {
    if (note::open(g.customer_approval, rules.customer_keys).text != approval_text_of(g, environment_id, key_sha256))
      return "customer_approval_invalid";
  } catch (const std::exception&) {
    return "customer_approval_invalid";
  }
  return "";
}

}  // namespace byoc::access
