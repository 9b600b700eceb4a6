// Whether the environment's agent may issue a support certificate for a
// grant: the customer's rules (from its policy.json) against what the
// management plane sent. A pure function, so every refusal is testable
// without an agent; the answer is "" (issue) or a reason code from
// model::grant_refusal_codes().
//
// What is trusted: without `require_customer_approval`, the management
// plane's record of the reviews (the agent checks it is coherent: enough
// distinct approvers who are not the requester, no denial). With it, nothing
// the plane says is enough: a signed note by one of the customer's keys must
// name exactly this grant — request, environment, scope, requester,
// duration and the SHA-256 of the CSR's key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "access/signed_note.h"
#include "model/access.h"
#include "model/protocol.h"

namespace byoc::access {

struct GrantRules {
  bool support_access = true;
  bool require_customer_approval = false;
  std::vector<note::Verifier> customer_keys;
  int64_t max_grant_seconds = 8 * 3600;
  // What the environment can serve (kubernetes-readonly needs a Kubernetes
  // API): a grant of another scope is scope_unsupported.
  std::vector<std::string> served_scopes = {model::kScopeClickhouseSystem};
  // What the customer allows (policy.json support_access_scopes): a grant of
  // another scope is scope_not_allowed.
  std::vector<std::string> allowed_scopes = {model::kScopeClickhouseSystem};
};

std::string grant_refusal(const model::DesiredGrant& grant, const GrantRules& rules,
                          const std::string& environment_id, int64_t now);

// The text the customer's note must be for this grant (access_request.h:
// approval_text), given the SHA-256 of its CSR's key.
std::string approval_text_of(const model::DesiredGrant& grant, const std::string& environment_id,
                             const std::string& csr_key_sha256);

}  // namespace byoc::access
