// Kubernetes API requests of kubernetes-readonly grants on their way to the
// audit log, on a manual clock: counted per distinct request with count and
// first/last time, numbered with seqs that persist across restarts and
// start at the clock's milliseconds, acknowledged entries dropped, fields
// made to fit what the plane accepts, and memory and disk bounded however
// many names an engineer asks for.
#include "agent/kube_requests.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "../e2e/e2e_support.h"
#include "agent/state_layout.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int64_t kStart = 1'800'000'000;  // ManualClock's default epoch second
constexpr int64_t kFirstSeq = kStart * 1000;
const std::string kGrant = "acc-0123456789abcdef";

model::KubeRequest get_pod(const std::string& name, const std::string& decision = "allowed", int status = 200) {
  model::KubeRequest r;
  r.request_id = kGrant;
  r.serial = "a1b";
  r.verb = "get";
  r.resource = "pods";
  r.namespace_name = "byoc-services";
  r.name = name;
  r.decision = decision;
  r.status = status;
  return r;
}

class KubeRequestsTest : public ::testing::Test {
 protected:
  fs::path file() const { return dir.path() / layout::kKubeRequests; }

  testing::TempDir dir;
  ManualClock clock;
};

TEST_F(KubeRequestsTest, RequestsAreCountedPerDistinctRequestInOrderOfFirst) {
  KubeRequests k(file(), clock);
  EXPECT_FALSE(k.has_unreported());
  k.record(get_pod("ch-0"));
  clock.advance(5s);
  k.record(get_pod("ch-0"));
  model::KubeRequest secrets = get_pod("");
  secrets.verb = "list";
  secrets.resource = "secrets";
  k.record(get_pod("ch-0", "allowed", 404));  // another status: another entry
  k.record(secrets);
  model::KubeRequest version;
  version.request_id = kGrant;
  version.serial = "a1b";
  version.verb = "get";
  version.path = "/version";
  version.decision = "allowed";
  version.status = 200;
  clock.advance(5s);
  k.record(version);
  EXPECT_TRUE(k.has_unreported());

  auto p = k.pending(100);
  EXPECT_FALSE(k.has_unreported());
  ASSERT_EQ(p.size(), 4u);
  model::KubeRequest first = get_pod("ch-0");
  first.seq = kFirstSeq;
  first.count = 2;
  first.first = kStart;
  first.last = kStart + 5;
  EXPECT_EQ(p[0], first);
  EXPECT_EQ(p[3].path, "/version");
  EXPECT_EQ(p[3].first, kStart + 10);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(p[i].seq, kFirstSeq + static_cast<int64_t>(i));
  EXPECT_EQ(k.next_seq(), kFirstSeq + 4);
}

TEST_F(KubeRequestsTest, AcknowledgedEntriesGoAndSeqsSurviveAReopenInAFile0600) {
  int64_t last_seq = 0;
  {
    KubeRequests k(file(), clock);
    for (const char* name : {"ch-0", "ch-1", "ch-2"}) {
      k.record(get_pod(name));
      clock.advance(1s);
    }
    auto p = k.pending(10);
    ASSERT_EQ(p.size(), 3u);
    k.acknowledge(p[1].seq);
    EXPECT_EQ(k.pending_count(), 1u);
    last_seq = p[2].seq;
    auto saved = nlohmann::json::parse(files::read(file()));
    ASSERT_EQ(saved["pending"].size(), 1u);
    EXPECT_EQ(saved["pending"][0]["name"], "ch-2");
  }
  EXPECT_EQ(e2e::file_mode(file()), 0600u);
  clock.set_unix_seconds(kStart - 3600);  // a clock set back reuses nothing
  KubeRequests reopened(file(), clock);
  auto p = reopened.pending(10);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].seq, last_seq);
  EXPECT_EQ(p[0].name, "ch-2");
  reopened.record(get_pod("ch-3"));
  EXPECT_EQ(reopened.pending(10).back().seq, last_seq + 1);
  reopened.acknowledge(last_seq + 1);
  EXPECT_EQ(KubeRequests(file(), clock).pending_count(), 0u);
  EXPECT_EQ(KubeRequests(file(), clock).next_seq(), last_seq + 2);
}

TEST_F(KubeRequestsTest, ACorruptFileIsSetAsideAndAFreshLedgerStarts) {
  for (const std::string text :
       {"not json", R"({"next_seq": 5, "pending": {}})",
        // an entry the plane would reject: a name with a space
        R"({"next_seq": 9, "pending": [{"seq": 1, "verb": "get", "name": "a b", "decision": "allowed",
            "status": 200, "count": 1, "first": 1, "last": 1}]})"}) {
    files::write_atomic(file(), text, 0600);
    KubeRequests k(file(), clock);
    EXPECT_EQ(k.pending_count(), 0u) << text;
    EXPECT_EQ(k.next_seq(), kFirstSeq) << text;
    EXPECT_EQ(files::read(fs::path(file().string() + ".corrupt")), text);
  }
}

// Whatever the proxy hands over, the report carries only what the plane
// accepts — and the request is still on the record.
TEST_F(KubeRequestsTest, FieldsAreMadeToFitWhatThePlaneAccepts) {
  KubeRequests k(file(), clock);
  model::KubeRequest odd = get_pod("a name\twith\x01 controls \xc3\xa9");
  odd.request_id = "acc-not-an-id";
  odd.serial = "0A1B";
  odd.path = "/" + std::string(2000, 'p');
  odd.decision = "Not A Code";
  odd.status = 1000;
  odd.verb = std::string(40, 'v');
  k.record(odd);
  auto p = k.pending(10);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].name, "a?name?with??controls???");
  EXPECT_EQ(p[0].request_id, "");
  EXPECT_EQ(p[0].serial, "a1b");
  EXPECT_EQ(p[0].path.size(), model::kMaxKubeRequestPath);
  EXPECT_EQ(p[0].decision, "unknown");
  EXPECT_EQ(p[0].status, 0);
  EXPECT_EQ(p[0].verb, std::string(32, 'v'));
  model::SyncRequest report;
  report.kube_requests = p;
  EXPECT_EQ(model::parse_sync_request(model::to_json(report)).kube_requests, p);
}

TEST_F(KubeRequestsTest, ManyNamesFoldIntoOneEntryWithoutNameThenAreDroppedAndCounted) {
  KubeRequests k(file(), clock);
  const int n = static_cast<int>(KubeRequests::kMaxKeys);
  for (int i = 0; i < n; ++i) k.record(get_pod("pod-" + std::to_string(i)));
  auto p = k.pending(model::kMaxKubeRequests);
  const size_t kept = KubeRequests::kMaxKeys - KubeRequests::kFoldRoom;
  ASSERT_EQ(p.size(), kept + 1);
  auto folded = std::find_if(p.begin(), p.end(), [](const auto& e) { return e.name.empty(); });
  ASSERT_NE(folded, p.end());
  EXPECT_EQ(folded->count, static_cast<int64_t>(n - kept));
  EXPECT_EQ(folded->resource, "pods");
  EXPECT_EQ(k.dropped(), 0);

  int64_t recorded = 0;
  for (int i = 0; i < n; ++i, ++recorded) k.record(get_pod("pod-" + std::to_string(i)));
  // New folded keys (other resources) fill the fold room, then are dropped.
  for (int r = 0; r < 300; ++r, ++recorded) {
    model::KubeRequest other = get_pod("x");
    other.resource = "kind" + std::to_string(r);
    k.record(other);
  }
  k.acknowledge(k.next_seq() - 1);
  auto second = k.pending(KubeRequests::kMaxPending);
  EXPECT_EQ(second.size(), KubeRequests::kMaxKeys);
  int64_t total = 0;
  for (const auto& e : second) total += e.count;
  EXPECT_GT(k.dropped(), 0);
  EXPECT_EQ(total + k.dropped(), recorded);
}

TEST_F(KubeRequestsTest, TheUnacknowledgedListDropsItsOldestBeyondItsBound) {
  const size_t bound = 100;
  KubeRequests k(file(), clock, bound);
  for (int r = 0; r < 150; ++r) {
    k.record(get_pod("ch-0"));
    k.pending(1);
    clock.advance(1s);
  }
  EXPECT_EQ(k.pending_count(), bound);
  EXPECT_EQ(k.dropped(), 50);
  EXPECT_EQ(k.pending(1)[0].seq, kFirstSeq + 50);
}

}  // namespace
}  // namespace byoc::agent
