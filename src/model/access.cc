#include "model/access.h"

#include <algorithm>

#include "base/clock.h"

namespace byoc::model {
using nlohmann::json;

namespace {

json time_or_null(int64_t unix_seconds) { return unix_seconds ? json(format_rfc3339(unix_seconds)) : json(nullptr); }

json reviews_json(const std::vector<AccessReview>& reviews, bool api) {
  json out = json::array();
  for (const auto& r : reviews)
    out.push_back({{"reviewer", r.reviewer},
                   {"role", r.role},
                   {"decision", r.decision},
                   {"reason", r.reason},
                   {"time", api ? json(format_rfc3339(r.time)) : json(r.time)}});
  return out;
}

}  // namespace

const std::vector<std::string>& access_scopes() {
  static const std::vector<std::string> all = {kScopeClickhouseSystem, kScopeKubernetesReadonly};
  return all;
}

bool is_access_scope(const std::string& scope) {
  return std::find(access_scopes().begin(), access_scopes().end(), scope) != access_scopes().end();
}

bool access_state_final(const std::string& s) {
  return s == kAccessDenied || s == kAccessExpired || s == kAccessRefused || s == kAccessRevoked || s == kAccessDone;
}

json to_json(const AccessRequest& r, const std::string& environment_name) {
  bool granted = r.not_after != 0;
  return {{"id", r.id},
          {"environment", environment_name},
          {"environment_id", r.environment_id},
          {"organization", r.organization},
          {"scope", r.scope},
          {"requester", r.requester},
          {"reason", r.reason},
          {"duration_seconds", r.duration_seconds},
          {"state", r.state},
          {"reviews", reviews_json(r.reviews, true)},
          {"required", {{"approvals", r.required_approvals}, {"customer", r.required_customer}}},
          {"customer_approval", !r.customer_approval.empty()},
          {"csr_public_key_sha256", r.csr_public_key_sha256},
          {"created_at", format_rfc3339(r.created_at)},
          {"updated_at", format_rfc3339(r.updated_at)},
          {"expires_at", r.state == kAccessPending ? time_or_null(r.expires_at) : json(nullptr)},
          {"not_before", granted ? time_or_null(r.not_before) : json(nullptr)},
          {"not_after", granted ? time_or_null(r.not_after) : json(nullptr)},
          {"certificate_serial", r.certificate_serial.empty() ? json(nullptr) : json(r.certificate_serial)},
          {"refusal", r.refusal.empty() ? json(nullptr) : json(r.refusal)},
          {"ended_by", r.ended_by.empty() ? json(nullptr) : json(r.ended_by)}};
}

json to_json(const AccessPolicy& p) {
  return {{"approvals", p.approvals},
          {"max_duration_seconds", p.max_duration_seconds},
          {"pending_ttl_seconds", p.pending_ttl_seconds}};
}

json to_json(const AgentAccessPolicy& p) {
  return {{"reported", p.reported},
          {"support_access", p.support_access},
          {"customer_approval_required", p.customer_approval_required},
          {"max_grant_seconds", p.max_grant_seconds},
          {"scopes", p.scopes}};
}

json access_request_document(const AccessRequest& r) {
  return {{"id", r.id},
          {"environment_id", r.environment_id},
          {"organization", r.organization},
          {"scope", r.scope},
          {"requester", r.requester},
          {"reason", r.reason},
          {"duration_seconds", r.duration_seconds},
          {"state", r.state},
          {"reviews", reviews_json(r.reviews, false)},
          {"required_approvals", r.required_approvals},
          {"required_customer", r.required_customer},
          {"csr_pem", r.csr_pem},
          {"csr_public_key_sha256", r.csr_public_key_sha256},
          {"customer_approval", r.customer_approval},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at},
          {"expires_at", r.expires_at},
          {"not_before", r.not_before},
          {"not_after", r.not_after},
          {"certificate_pem", r.certificate_pem},
          {"certificate_serial", r.certificate_serial},
          {"refusal", r.refusal},
          {"ended_by", r.ended_by}};
}

AccessRequest access_request_from_document(const json& d) {
  AccessRequest r;
  r.id = d.at("id");
  r.environment_id = d.at("environment_id");
  r.organization = d.at("organization");
  r.scope = d.at("scope");
  r.requester = d.at("requester");
  r.reason = d.at("reason");
  r.duration_seconds = d.at("duration_seconds");
  r.state = d.at("state");
  for (const auto& v : d.at("reviews"))
    r.reviews.push_back({v.at("reviewer"), v.at("role"), v.at("decision"), v.at("reason"), v.at("time")});
  r.required_approvals = d.at("required_approvals");
  r.required_customer = d.at("required_customer");
  r.csr_pem = d.at("csr_pem");
  r.csr_public_key_sha256 = d.at("csr_public_key_sha256");
  r.customer_approval = d.at("customer_approval");
  r.created_at = d.at("created_at");
  r.updated_at = d.at("updated_at");
  r.expires_at = d.at("expires_at");
  r.not_before = d.at("not_before");
  r.not_after = d.at("not_after");
  r.certificate_pem = d.at("certificate_pem");
  r.certificate_serial = d.at("certificate_serial");
  r.refusal = d.at("refusal");
  r.ended_by = d.at("ended_by");
  return r;
}

}  // namespace byoc::model
