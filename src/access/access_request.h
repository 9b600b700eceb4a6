// The rules of an access request's life (model/access.h has the record and
// its states), as pure functions of the request, who acts and the time: the
// server's routes and the expiry controller call them inside a transaction
// and store what they return. Every refusal is a byoc::Error naming why.
#pragma once

#include <cstdint>
#include <string>

#include "model/access.h"

namespace byoc::access {

// At most this many reviews per request (the desired state carries them all).
inline constexpr size_t kMaxReviews = 16;

enum class ReviewOutcome {
  kRecorded,  // counted; more reviews are needed
  kApproved,  // the requirement is met: APPROVED, the grant's window set
  kDenied,    // DENIED (a denial by anyone entitled ends the request)
};

// Adds `review` (reviewer, role, decision, reason; its time is `now`).
// Throws: 409 `not_pending` unless PENDING (or past its deadline), 403
// `self_review` when the reviewer is the requester (by subject, whatever
// token), 409 `already_reviewed` when this reviewer reviewed it already.
ReviewOutcome review(model::AccessRequest& r, model::AccessReview review, int64_t now);

// Whether the reviews so far meet what the request requires: `approvals`
// distinct approvers approved, and the customer too when required.
bool approvals_met(const model::AccessRequest& r);

// Ends a request that is not final: REVOKED (by `who`: approvers, admins,
// customers) or DONE (by its requester). 409 `already_final` otherwise.
void revoke(model::AccessRequest& r, const std::string& who, int64_t now);
void mark_done(model::AccessRequest& r, const std::string& who, int64_t now);

// The data plane's answer to an approved grant: the certificate it issued
// (ACTIVE) or its reason code (REFUSED). Ignored unless APPROVED; returns
// whether anything changed.
bool issued(model::AccessRequest& r, const std::string& certificate_pem, const std::string& serial, int64_t now);
bool refused(model::AccessRequest& r, const std::string& reason_code, int64_t now);

// EXPIRED once its deadline has passed: undecided by expires_at, or its
// grant's window over. Returns whether it changed.
bool expire_if_due(model::AccessRequest& r, int64_t now);
// When expire_if_due() may next change it (0: never, it is final).
int64_t next_deadline(const model::AccessRequest& r);

// The text a customer signs (as a C2SP signed note) to approve exactly this
// grant: "byoc access approval v1", then one `key value` per line — request,
// environment, scope, requester, duration_seconds, approve_before (the
// request's review deadline, Unix seconds: the grant's window opens before
// it, so a signed approval can't be held back and used later),
// csr_public_key_sha256.
std::string approval_text(const model::AccessRequest& r);

}  // namespace byoc::access
