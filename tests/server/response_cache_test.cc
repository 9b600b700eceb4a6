// Read answers served from the generation cache are never stale: every write
// (through the API, an agent's sync or a controller) shows on the very next
// read, a deleted token is refused at once, and one organisation's answers
// never reach another's customers.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "api_harness.h"
#include "model/protocol.h"

namespace byoc::server::test {
namespace {
using nlohmann::json;
using namespace std::chrono_literals;

class ResponseCache : public ::testing::Test {
 protected:
  Answer get(const std::string& target, const std::string& token = "<admin>") {
    return api.call("GET", target, "", "", token);
  }
  std::vector<std::string> names(const Answer& a) {
    std::vector<std::string> out;
    for (const auto& item : a.body["items"]) out.push_back(item["name"]);
    return out;
  }
  void create_environment(const std::string& name, const std::string& query = "") {
    ASSERT_EQ(api.call_json("POST", "/v1/environments" + query,
                            {{"name", name}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}})
                  .status,
              202);
  }
  // A new token; returns {token, id}.
  std::pair<std::string, std::string> token(const std::string& role, const std::string& organization) {
    Answer t = api.call_json("POST", "/v1/tokens",
                             {{"role", role}, {"organization", organization}, {"subject", role + "@example.com"}});
    EXPECT_EQ(t.status, 201) << t.body.dump();
    return {t.body["token"], t.body["id"]};
  }
  std::string environment_id(const std::string& name) {
    std::string id;
    api.store->read([&](store::Transaction& tx) { id = tx.environments().by_name("default", name)->id; });
    return id;
  }

  ApiHarness api;
};

TEST_F(ResponseCache, RepeatedReadIsAnsweredWithoutTheStorePool) {
  if (!api.store->generation_is_current())
    GTEST_SKIP() << "a shared store's cached answer first asks for the current generation, on the pool";
  create_environment("a");
  ASSERT_EQ(get("/v1/environments").status, 200);
  // Occupy the harness's only store thread: an answer now can only come from the cache.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  api.context().store_pool.post([released] { released.wait(); });
  auto cached = std::async(std::launch::async, [&] { return get("/v1/environments"); });
  bool answered = cached.wait_for(30s) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "a repeated read waited for the store";
  EXPECT_EQ(names(cached.get()), std::vector<std::string>{"a"});
}

TEST_F(ResponseCache, ListAndGetReflectCreateAtOnce) {
  EXPECT_TRUE(names(get("/v1/environments")).empty());
  EXPECT_TRUE(names(get("/v1/environments")).empty());
  EXPECT_EQ(get("/v1/environments/a").status, 404);
  create_environment("a");
  EXPECT_EQ(names(get("/v1/environments")), std::vector<std::string>{"a"});
  EXPECT_EQ(get("/v1/environments/a").status, 200);
  create_environment("b");
  EXPECT_EQ(names(get("/v1/environments")), (std::vector<std::string>{"a", "b"}));
}

TEST_F(ResponseCache, PatchAndDeleteOfServicesShowAtOnce) {
  create_environment("e");
  ASSERT_EQ(api.call_json("POST", "/v1/environments/e/services", {{"name", "s"}}).status, 202);
  EXPECT_EQ(get("/v1/environments/e/services/s").body["allowed_ips"], json::array());
  EXPECT_EQ(get("/v1/services").body["items"][0]["allowed_ips"], json::array());

  ASSERT_EQ(api.call_json("PATCH", "/v1/environments/e/services/s", {{"allowed_ips", {"10.1.0.0/16"}}}).status,
            202);
  EXPECT_EQ(get("/v1/environments/e/services/s").body["allowed_ips"], json::array({"10.1.0.0/16"}));
  EXPECT_EQ(get("/v1/services?environment=e").body["items"][0]["allowed_ips"], json::array({"10.1.0.0/16"}));
  EXPECT_EQ(get("/v1/environments/e/services").body["items"][0]["allowed_ips"], json::array({"10.1.0.0/16"}));

  ASSERT_EQ(api.call("DELETE", "/v1/environments/e/services/s").status, 202);
  EXPECT_EQ(get("/v1/environments/e/services/s").body["state"], "DELETING");
  EXPECT_EQ(get("/v1/environments/e/services").body["items"][0]["state"], "DELETING");
}

TEST_F(ResponseCache, EnvironmentDeletionShowsAtOnceIncludingTheControllersWrite) {
  create_environment("e");
  EXPECT_EQ(names(get("/v1/environments")), std::vector<std::string>{"e"});
  ASSERT_EQ(api.call("DELETE", "/v1/environments/e").status, 202);
  EXPECT_EQ(get("/v1/environments").body["items"][0]["state"], "DELETING");
  // What the environment controller does once deprovisioned, straight on the store.
  std::string id = environment_id("e");
  api.store->transact([&](store::Transaction& tx) { tx.environments().remove(id); });
  EXPECT_TRUE(names(get("/v1/environments")).empty());
  EXPECT_EQ(get("/v1/environments/e").status, 404);
}

TEST_F(ResponseCache, ConditionChangedByAnAgentSyncShowsAtOnce) {
  create_environment("e");
  std::string id = environment_id("e");
  api.store->transact([&](store::Transaction& tx) { tx.agents().put({id, "0a1b", 0}); });
  auto connected = [&] {
    Answer env = get("/v1/environments/e");
    for (const auto& c : env.body["conditions"])
      if (c["type"] == "agent_connected") return c["status"].get<bool>();
    return false;
  };
  EXPECT_FALSE(connected());
  EXPECT_FALSE(connected());

  HttpRequest sync;
  sync.method = "POST";
  sync.path = "/v1/agent/sync";
  sync.headers["content-type"] = "application/json";
  sync.peer = PeerCertificate{"agent:" + id, "0a1b"};
  sync.body = model::to_json(model::SyncRequest{}).dump();
  Answer synced = api.send(sync);
  ASSERT_EQ(synced.status, 200) << synced.body.dump();
  EXPECT_TRUE(connected());
  EXPECT_EQ(get("/v1/environments").body["items"][0]["conditions"][0]["status"], true);
}

TEST_F(ResponseCache, DeletedTokenIsRefusedOnTheNextRequest) {
  create_environment("e");
  auto [customer, id] = token("customer", "default");
  EXPECT_EQ(get("/v1/environments", customer).status, 200);
  EXPECT_EQ(get("/v1/environments", customer).status, 200);
  // The same token id with another secret: refused, cache or not.
  std::string forged = customer.substr(0, customer.find('.') + 1) + std::string(43, 'A');
  EXPECT_EQ(get("/v1/environments", forged).status, 401);

  ASSERT_EQ(api.call("DELETE", "/v1/tokens/" + id).status, 204);
  Answer refused = get("/v1/environments", customer);
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(refused.body["error"]["code"], "unauthenticated");
  EXPECT_EQ(get("/v1/environments/e", customer).status, 401);
}

TEST_F(ResponseCache, CustomersNeverSeeAnotherOrganisationsAnswers) {
  ASSERT_EQ(api.call_json("POST", "/v1/organizations", {{"name", "acme"}}).status, 201);
  create_environment("home");
  create_environment("rocket", "?organization=acme");
  std::string ours = token("customer", "default").first;
  std::string theirs = token("customer", "acme").first;
  std::string vendor = token("operator", "default").first;
  for (int round = 0; round < 3; ++round) {  // the later rounds come from the cache
    EXPECT_EQ(names(get("/v1/environments", ours)), std::vector<std::string>{"home"});
    EXPECT_EQ(names(get("/v1/environments", theirs)), std::vector<std::string>{"rocket"});
    EXPECT_EQ(names(get("/v1/environments", vendor)), std::vector<std::string>{"home"});
    EXPECT_EQ(names(get("/v1/environments?organization=acme", vendor)), std::vector<std::string>{"rocket"});
    EXPECT_EQ(get("/v1/environments/rocket", theirs).status, 200);
    EXPECT_EQ(get("/v1/environments/rocket", ours).status, 404);
    EXPECT_EQ(get("/v1/environments?organization=acme", ours).status, 404);
    EXPECT_EQ(get("/v1/environments?organization=nowhere", vendor).status, 404);
  }
}

TEST_F(ResponseCache, OperationOfAnotherOrganisationStaysHidden) {
  ASSERT_EQ(api.call_json("POST", "/v1/organizations", {{"name", "acme"}}).status, 201);
  Answer op = api.call_json("POST", "/v1/environments?organization=acme",
                            {{"name", "rocket"}, {"cloud", "external"}, {"cidr", "10.0.0.0/16"}});
  ASSERT_EQ(op.status, 202);
  std::string target = "/v1/operations/" + op.body["id"].get<std::string>();
  std::string theirs = token("customer", "acme").first;
  std::string ours = token("customer", "default").first;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(get(target).status, 200);
    EXPECT_EQ(get(target, theirs).status, 200);
    EXPECT_EQ(get(target, ours).status, 404);
  }
}

TEST_F(ResponseCache, ConcurrentReadersSeeEveryWriteThatReturnedBeforeThem) {
  constexpr int kCreates = 25;
  std::atomic<int> returned{0};
  std::atomic<bool> stop{false};
  std::atomic<int> stale{0}, failed{0}, reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r)
    readers.emplace_back([&] {
      while (!stop.load()) {
        int before = returned.load();
        Answer a = get("/v1/environments");
        if (a.status != 200) failed.fetch_add(1);
        else if (a.body["items"].size() < static_cast<size_t>(before)) stale.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  for (int i = 0; i < kCreates; ++i) {
    create_environment("e" + std::to_string(i));
    returned.fetch_add(1);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(get("/v1/environments").body["items"].size(), static_cast<size_t>(kCreates));
}

TEST_F(ResponseCache, OffMeansEveryReadGoesToTheStore) {
  api.context().cache_responses = false;
  create_environment("a");
  EXPECT_EQ(names(get("/v1/environments")), std::vector<std::string>{"a"});
  EXPECT_EQ(names(get("/v1/environments")), std::vector<std::string>{"a"});
  EXPECT_EQ(api.context().responses.size(), 0u);
}

}  // namespace
}  // namespace byoc::server::test
