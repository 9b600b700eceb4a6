// Whether the environment's agent issues for a grant: each refusal by its
// reason code, and the customer's signed approval — by a listed key, of
// exactly this grant (its request, requester, duration and CSR key).
#include "access/grant_check.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "access/access_request.h"
#include "base/crypto.h"

namespace byoc::access {
namespace {

const std::string kEnv = "env-0123456789abcdef";
constexpr int64_t kNow = 1'800'000'000;

class GrantCheck : public ::testing::Test {
 protected:
  GrantCheck() {
    grant.request_id = "acc-0123456789abcdef";
    grant.requester = "eng@vendor.example";
    grant.scope = "clickhouse-system";
    grant.csr_pem = crypto::make_csr(crypto::generate_key_pem(), "engineer");
    grant.duration_seconds = 3600;
    grant.not_before = kNow - 10;
    grant.not_after = kNow - 10 + 3600;
    grant.approve_before = kNow + 3000;
    grant.reviews = {{"lead@vendor.example", "approver", "approve", kNow - 10}};
  }

  // The customer's note for `g` signed by `by`.
  std::string approval(const model::DesiredGrant& g, const note::Signer& by) {
    return note::sign(approval_text_of(g, kEnv, crypto::csr_public_key_sha256_hex(g.csr_pem)), {by});
  }
  std::string check(const model::DesiredGrant& g) { return grant_refusal(g, rules, kEnv, kNow); }

  model::DesiredGrant grant;
  GrantRules rules;
  note::Signer customer = note::make_signer("ops", crypto::random_bytes(32));
};

TEST_F(GrantCheck, AnApprovedGrantWithinThePolicyIsIssued) { EXPECT_EQ(check(grant), ""); }

TEST_F(GrantCheck, EachBreachOfThePolicyHasItsReason) {
  auto with = [&](auto change) {
    model::DesiredGrant g = grant;
    change(g);
    return check(g);
  };
  rules.support_access = false;
  EXPECT_EQ(check(grant), "support_access_off");
  rules.support_access = true;
  EXPECT_EQ(with([](auto& g) { g.scope = "kubernetes-readonly"; }), "scope_unsupported");
  EXPECT_EQ(with([](auto& g) { g.not_after = kNow; }), "grant_expired");
  rules.max_grant_seconds = 1800;
  EXPECT_EQ(check(grant), "duration_too_long");
  rules.max_grant_seconds = 8 * 3600;
  EXPECT_EQ(with([](auto& g) { g.not_after = g.not_before + 7200; }), "duration_too_long")
      << "a window longer than the duration approved";
  EXPECT_EQ(with([](auto& g) { g.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n"; }),
            "bad_csr");
  EXPECT_EQ(with([](auto& g) { g.reviews.clear(); }), "approvals_missing");
  EXPECT_EQ(with([](auto& g) { g.reviews = {{"eng@vendor.example", "approver", "approve", 0}}; }), "approvals_missing")
      << "the requester's own approval is none";
  EXPECT_EQ(with([](auto& g) { g.reviews.push_back({"head@vendor.example", "approver", "deny", 0}); }),
            "approvals_missing");
  EXPECT_EQ(with([](auto& g) { g.required_approvals = 2; }), "approvals_missing");
  EXPECT_EQ(with([](auto& g) { g.reviews = {{"ops@customer.example", "customer", "approve", 0}}; }),
            "approvals_missing")
      << "a vendor approver is always needed";
}

// kubernetes-readonly needs both an environment that serves it (a
// Kubernetes API) and a customer who listed it; the signed note names the
// scope, so an approval of one scope is no approval of the other.
TEST_F(GrantCheck, TheKubernetesScopeNeedsTheEnvironmentToServeItAndTheCustomerToAllowIt) {
  model::DesiredGrant k8s = grant;
  k8s.scope = "kubernetes-readonly";
  EXPECT_EQ(check(k8s), "scope_unsupported") << "by default the environment serves clickhouse-system alone";
  rules.served_scopes = {"clickhouse-system", "kubernetes-readonly"};
  EXPECT_EQ(check(k8s), "scope_not_allowed") << "the customer allows clickhouse-system alone by default";
  rules.support_access = false;
  EXPECT_EQ(check(k8s), "support_access_off");
  rules.support_access = true;
  rules.allowed_scopes = {"kubernetes-readonly"};
  EXPECT_EQ(check(k8s), "");
  EXPECT_EQ(check(grant), "scope_not_allowed") << "a customer may allow the Kubernetes scope alone";
  for (const auto& code : {"scope_unsupported", "scope_not_allowed"})
    EXPECT_NE(std::find(model::grant_refusal_codes().begin(), model::grant_refusal_codes().end(), code),
              model::grant_refusal_codes().end())
        << code;

  rules.require_customer_approval = true;
  rules.customer_keys = {note::verifier_of(customer)};
  model::DesiredGrant signed_other = k8s;
  signed_other.customer_approval = approval(grant, customer);  // the same grant as clickhouse-system
  EXPECT_EQ(check(signed_other), "customer_approval_invalid");
  k8s.customer_approval = approval(k8s, customer);
  EXPECT_EQ(check(k8s), "");
}

TEST_F(GrantCheck, UnderCustomerApprovalOnlyTheCustomersKeySigningExactlyThisGrantLetsItIn) {
  rules.require_customer_approval = true;
  rules.customer_keys = {note::verifier_of(customer)};
  EXPECT_EQ(check(grant), "customer_approval_missing") << "reviews the plane recorded are not enough";
  model::DesiredGrant g = grant;
  g.customer_approval = approval(grant, customer);
  EXPECT_EQ(check(g), "");
  // Signed by a key the customer does not list.
  g.customer_approval = approval(grant, note::make_signer("ops", crypto::random_bytes(32)));
  EXPECT_EQ(check(g), "customer_approval_invalid");
  // For another CSR: the note names another key than the one to be certified.
  model::DesiredGrant other_key = grant;
  other_key.csr_pem = crypto::make_csr(crypto::generate_key_pem(), "engineer");
  g = grant;
  g.customer_approval = approval(other_key, customer);
  EXPECT_EQ(check(g), "customer_approval_invalid");
  // For a longer grant, another requester, another request.
  for (auto change : std::vector<std::function<void(model::DesiredGrant&)>>{
           [](auto& x) { x.duration_seconds = 1800; }, [](auto& x) { x.requester = "eve@vendor.example"; },
           [](auto& x) { x.request_id = "acc-ffffffffffffffff"; }}) {
    model::DesiredGrant named = grant;
    change(named);
    g = grant;
    g.customer_approval = approval(named, customer);
    EXPECT_EQ(check(g), "customer_approval_invalid");
  }
  // Held back and replayed: the same note for a window opened after the
  // review deadline it names, or one that opens later than now.
  g = grant;
  g.customer_approval = approval(grant, customer);
  g.not_before = grant.approve_before + 1;
  g.not_after = g.not_before + 3600;
  EXPECT_EQ(grant_refusal(g, rules, kEnv, g.not_before), "grant_expired");
  g = grant;
  g.customer_approval = approval(grant, customer);
  g.not_before = kNow + 600;
  g.not_after = g.not_before + 3600;
  EXPECT_EQ(check(g), "grant_expired");
  // A note whose signature was tampered with.
  g = grant;
  g.customer_approval = approval(grant, customer);
  g.customer_approval[g.customer_approval.size() - 5] ^= 0x01;
  EXPECT_EQ(check(g), "customer_approval_invalid");
}

}  // namespace
}  // namespace byoc::access
