// Certificate renewal, the agent's side: when it is due, and how a renewal a
// crash interrupted is completed or dropped.
#include "agent/renewal.h"

#include <gtest/gtest.h>

#include "agent/state_layout.h"
#include "base/crypto.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Pair {
  std::string key_pem;
  std::string cert_pem;
};

Pair issued(TimePoint not_before, TimePoint not_after) {
  crypto::CertificateSpec ca_spec;
  ca_spec.common_name = "agent CA";
  ca_spec.not_before = not_before;
  ca_spec.not_after = not_after + 24h;
  const crypto::KeyedCertificate ca = crypto::make_ca(ca_spec);
  crypto::CertificateSpec spec;
  spec.common_name = "agent:env-1";
  spec.client_auth = true;
  spec.not_before = not_before;
  spec.not_after = not_after;
  crypto::KeyedCertificate c = crypto::issue(ca, spec);
  return {c.key_pem, c.cert_pem};
}

TEST(Renewal, DueOnceLessThanAThirdOfTheLifetimeIsLeft) {
  ManualClock clock;
  const TimePoint start = clock.system_time();
  Pair p = issued(start, start + 30 * 24h);
  EXPECT_FALSE(renewal_due(p.cert_pem, start));
  EXPECT_FALSE(renewal_due(p.cert_pem, start + 19 * 24h));
  EXPECT_TRUE(renewal_due(p.cert_pem, start + 20 * 24h + 1s));
  EXPECT_TRUE(renewal_due(p.cert_pem, start + 31 * 24h));  // expired: still worth a try
  // The rule follows the lifetime, whatever it is.
  Pair short_lived = issued(start, start + 3h);
  EXPECT_FALSE(renewal_due(short_lived.cert_pem, start + 1h));
  EXPECT_TRUE(renewal_due(short_lived.cert_pem, start + 2h + 1s));
}

class InterruptedRenewal : public ::testing::Test {
 protected:
  void SetUp() override {
    ManualClock clock;
    old_ = issued(clock.system_time(), clock.system_time() + 30 * 24h);
    new_ = issued(clock.system_time(), clock.system_time() + 30 * 24h);
    files::write_atomic(path(layout::kKey), old_.key_pem, 0600);
    files::write_atomic(path(layout::kCertificate), old_.cert_pem);
  }
  fs::path path(const std::string& name) const { return dir_.path() / name; }
  fs::path next(const std::string& name) const { return dir_.path() / (name + ".next"); }
  std::string read(const fs::path& p) const { return files::read(p); }

  testing::TempDir dir_;
  Pair old_, new_;
};

TEST_F(InterruptedRenewal, AKeyThatGotNoCertificateIsDropped) {
  files::write_atomic(next(layout::kKey), new_.key_pem, 0600);
  finish_interrupted_renewal(dir_.path());
  EXPECT_FALSE(fs::exists(next(layout::kKey)));
  EXPECT_EQ(read(path(layout::kKey)), old_.key_pem);
  EXPECT_EQ(read(path(layout::kCertificate)), old_.cert_pem);
}

TEST_F(InterruptedRenewal, ASavedCertificateIsSwitchedToWithItsKey) {
  files::write_atomic(next(layout::kKey), new_.key_pem, 0600);
  files::write_atomic(next(layout::kCertificate), new_.cert_pem);
  finish_interrupted_renewal(dir_.path());
  EXPECT_EQ(read(path(layout::kKey)), new_.key_pem);
  EXPECT_EQ(read(path(layout::kCertificate)), new_.cert_pem);
  EXPECT_EQ(fs::status(path(layout::kKey)).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(next(layout::kKey)));
  EXPECT_FALSE(fs::exists(next(layout::kCertificate)));
}

TEST_F(InterruptedRenewal, ACrashBetweenTheTwoRenamesIsCompleted) {
  // The key was moved, the certificate not yet.
  files::write_atomic(path(layout::kKey), new_.key_pem, 0600);
  files::write_atomic(next(layout::kCertificate), new_.cert_pem);
  finish_interrupted_renewal(dir_.path());
  EXPECT_EQ(read(path(layout::kKey)), new_.key_pem);
  EXPECT_EQ(read(path(layout::kCertificate)), new_.cert_pem);
  EXPECT_TRUE(crypto::certificate_matches_key(read(path(layout::kCertificate)), read(path(layout::kKey))));
}

TEST_F(InterruptedRenewal, ACertificateForNoKeyWeHoldIsDropped) {
  files::write_atomic(next(layout::kCertificate), new_.cert_pem);  // its key is lost
  finish_interrupted_renewal(dir_.path());
  EXPECT_FALSE(fs::exists(next(layout::kCertificate)));
  EXPECT_EQ(read(path(layout::kKey)), old_.key_pem);
  EXPECT_EQ(read(path(layout::kCertificate)), old_.cert_pem);
  // A torn certificate file too.
  files::write_atomic(next(layout::kKey), new_.key_pem, 0600);
  files::write_atomic(next(layout::kCertificate), new_.cert_pem.substr(0, 40));
  finish_interrupted_renewal(dir_.path());
  EXPECT_FALSE(fs::exists(next(layout::kCertificate)));
  EXPECT_FALSE(fs::exists(next(layout::kKey)));
  EXPECT_EQ(read(path(layout::kCertificate)), old_.cert_pem);
}

TEST(Crypto, CertificateMatchesOnlyItsOwnKey) {
  ManualClock clock;
  Pair a = issued(clock.system_time(), clock.system_time() + 1h), b = issued(clock.system_time(), clock.system_time() + 1h);
  EXPECT_TRUE(crypto::certificate_matches_key(a.cert_pem, a.key_pem));
  EXPECT_FALSE(crypto::certificate_matches_key(a.cert_pem, b.key_pem));
}

}  // namespace
}  // namespace byoc::agent
