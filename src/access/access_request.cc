#include "access/access_request.h"

#include <set>

#include "base/error.h"

namespace byoc::access {
namespace {

void check_not_final(const model::AccessRequest& r) {
  if (model::access_state_final(r.state))
    throw Error::Conflict("already_final", "access request " + r.id + " is " + r.state, "state");
}

void end(model::AccessRequest& r, const char* state, const std::string& who, int64_t now) {
  check_not_final(r);
  r.state = state;
  r.ended_by = who;
  r.updated_at = now;
}

}  // namespace

bool approvals_met(const model::AccessRequest& r) {
  std::set<std::string> approvers;
  bool customer = false;
  for (const auto& v : r.reviews) {
    if (v.decision != "approve") continue;
    if (v.role == "approver") approvers.insert(v.reviewer);
    if (v.role == "customer") customer = true;
  }
  return static_cast<int>(approvers.size()) >= r.required_approvals && (!r.required_customer || customer);
}

ReviewOutcome review(model::AccessRequest& r, model::AccessReview v, int64_t now) {
  if (r.state != model::kAccessPending || now >= r.expires_at)
    throw Error::Conflict("not_pending", "access request " + r.id + " is " + r.state + ", not awaiting review",
                          "state");
  if (v.reviewer == r.requester)
    throw Error::Forbidden("a requester never reviews their own request, whatever token they use");
  for (const auto& earlier : r.reviews)
    if (earlier.reviewer == v.reviewer)
      throw Error::Conflict("already_reviewed", v.reviewer + " reviewed this request already", "reviewer");
  if (r.reviews.size() >= kMaxReviews)
    throw Error::Conflict("too_many_reviews", "this request has all the reviews it can take", "reviewer");
  v.time = now;
  bool deny = v.decision == "deny";
  r.reviews.push_back(std::move(v));
  r.updated_at = now;
  if (deny) {
    r.state = model::kAccessDenied;
    return ReviewOutcome::kDenied;
  }
  if (!approvals_met(r)) return ReviewOutcome::kRecorded;
  r.state = model::kAccessApproved;
  r.not_before = now;
  r.not_after = now + r.duration_seconds;
  return ReviewOutcome::kApproved;
}

void revoke(model::AccessRequest& r, const std::string& who, int64_t now) { end(r, model::kAccessRevoked, who, now); }

void mark_done(model::AccessRequest& r, const std::string& who, int64_t now) { end(r, model::kAccessDone, who, now); }

bool issued(model::AccessRequest& r, const std::string& certificate_pem, const std::string& serial, int64_t now) {
  if (r.state != model::kAccessApproved) return false;
  r.state = model::kAccessActive;
  r.certificate_pem = certificate_pem;
  r.certificate_serial = serial;
  r.refusal.clear();
  r.updated_at = now;
  return true;
}

bool refused(model::AccessRequest& r, const std::string& reason_code, int64_t now) {
  if (r.state != model::kAccessApproved) return false;
  r.state = model::kAccessRefused;
  r.refusal = reason_code;
  r.updated_at = now;
  return true;
}

int64_t next_deadline(const model::AccessRequest& r) {
  if (r.state == model::kAccessPending) return r.expires_at;
  if (r.state == model::kAccessApproved || r.state == model::kAccessActive) return r.not_after;
  return 0;
}

bool expire_if_due(model::AccessRequest& r, int64_t now) {
  int64_t deadline = next_deadline(r);
  if (deadline == 0 || now < deadline) return false;
  r.state = model::kAccessExpired;
  r.updated_at = now;
  return true;
}

std::string approval_text(const model::AccessRequest& r) {
  return "byoc access approval v1\n"
         "request " + r.id + "\n"
         "environment " + r.environment_id + "\n"
         "scope " + r.scope + "\n"
         "requester " + r.requester + "\n"
         "duration_seconds " + std::to_string(r.duration_seconds) + "\n"
         "approve_before " + std::to_string(r.expires_at) + "\n"
         "csr_public_key_sha256 " + r.csr_public_key_sha256 + "\n";
}

}  // namespace byoc::access
