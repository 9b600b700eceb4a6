// The rules of an access request's life as pure functions: reviews and what
// they add up to, the data plane's answers, deadlines, and the exact text a
// customer signs.
#include "access/access_request.h"

#include <gtest/gtest.h>

#include "testing/testing.h"

namespace byoc::access {
namespace {
using testing::error_code;

model::AccessRequest pending(int approvals = 1, bool customer = false) {
  model::AccessRequest r;
  r.id = "acc-0123456789abcdef";
  r.environment_id = "env-0123456789abcdef";
  r.requester = "oncall@vendor.example";
  r.duration_seconds = 3600;
  r.required_approvals = approvals;
  r.required_customer = customer;
  r.csr_public_key_sha256 = std::string(64, 'a');
  r.created_at = 1000;
  r.expires_at = 4600;
  return r;
}

model::AccessReview by(const std::string& who, const std::string& role = "approver",
                       const std::string& decision = "approve") {
  return {who, role, decision, "ok", 0};
}

TEST(AccessRequestRules, ApprovedOnceEnoughDistinctApproversAndTheCustomerWhenRequired) {
  auto r = pending(2, true);
  EXPECT_EQ(review(r, by("a"), 1100), ReviewOutcome::kRecorded);
  EXPECT_EQ(error_code([&] { review(r, by("a"), 1101); }), "already_reviewed");
  EXPECT_EQ(review(r, by("c", "customer"), 1102), ReviewOutcome::kRecorded);
  EXPECT_EQ(r.state, model::kAccessPending);
  EXPECT_EQ(review(r, by("b"), 1200), ReviewOutcome::kApproved);
  EXPECT_EQ(r.state, model::kAccessApproved);
  EXPECT_EQ(r.not_before, 1200);
  EXPECT_EQ(r.not_after, 4800);
  EXPECT_EQ(r.reviews.back().time, 1200);
}

TEST(AccessRequestRules, TheRequesterNeverReviewsAndLateOrSecondReviewsAreRefused) {
  auto r = pending();
  EXPECT_EQ(error_code([&] { review(r, by("oncall@vendor.example"), 1100); }), "forbidden");
  EXPECT_EQ(error_code([&] { review(r, by("a"), 4600); }), "not_pending") << "at its deadline it is undecided";
  EXPECT_EQ(review(r, by("a", "approver", "deny"), 1100), ReviewOutcome::kDenied);
  EXPECT_EQ(r.state, model::kAccessDenied);
  EXPECT_EQ(error_code([&] { review(r, by("b"), 1101); }), "not_pending");
}

TEST(AccessRequestRules, OnlyAnApprovedGrantIsIssuedOrRefusedAndFinalStatesStay) {
  auto r = pending();
  EXPECT_FALSE(issued(r, "PEM", "01", 1100));
  review(r, by("a"), 1100);
  EXPECT_TRUE(issued(r, "PEM", "01", 1110));
  EXPECT_EQ(r.state, model::kAccessActive);
  EXPECT_FALSE(refused(r, "duration_too_long", 1111)) << "an issued grant is not refused after the fact";
  revoke(r, "lead@vendor.example", 1200);
  EXPECT_EQ(r.state, model::kAccessRevoked);
  EXPECT_EQ(error_code([&] { mark_done(r, "oncall@vendor.example", 1201); }), "already_final");
  EXPECT_FALSE(expire_if_due(r, 99999));
  EXPECT_EQ(next_deadline(r), 0);

  auto other = pending();
  review(other, by("a"), 1100);
  EXPECT_TRUE(refused(other, "customer_approval_missing", 1105));
  EXPECT_EQ(other.state, model::kAccessRefused);
  EXPECT_EQ(other.refusal, "customer_approval_missing");
}

TEST(AccessRequestRules, DeadlinesAreTheReviewWindowThenTheGrantsEnd) {
  auto r = pending();
  EXPECT_EQ(next_deadline(r), 4600);
  EXPECT_FALSE(expire_if_due(r, 4599));
  auto late = r;
  EXPECT_TRUE(expire_if_due(late, 4600));
  EXPECT_EQ(late.state, model::kAccessExpired);
  review(r, by("a"), 2000);
  EXPECT_EQ(next_deadline(r), 5600);
  EXPECT_FALSE(expire_if_due(r, 5599));
  EXPECT_TRUE(expire_if_due(r, 5600));
}

TEST(AccessRequestRules, TheApprovalTextNamesTheGrantExactly) {
  EXPECT_EQ(approval_text(pending()),
            "byoc access approval v1\n"
            "request acc-0123456789abcdef\n"
            "environment env-0123456789abcdef\n"
            "scope clickhouse-system\n"
            "requester oncall@vendor.example\n"
            "duration_seconds 3600\n"
            "approve_before 4600\n"
            "csr_public_key_sha256 " + std::string(64, 'a') + "\n");
}

}  // namespace
}  // namespace byoc::access
