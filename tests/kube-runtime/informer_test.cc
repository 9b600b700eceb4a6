// kube::Client's watch and kube::Informer against the stand-in API server:
// list, then watch from the list's resourceVersion; resume from the last
// version seen; a version the server no longer has (410, as the answer's
// status or as an ERROR event) makes the next step a list.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_kube_api.h"
#include "kube/client.h"
#include "testing/testing.h"

namespace byoc::testing {
namespace {

using nlohmann::json;

json pod(const std::string& name, const std::string& app = "clickhouse") {
  json container = {{"name", "c"}, {"image", "clickhouse:25"}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "ch"}, {"labels", {{"app", app}}}}},
          {"spec", {{"containers", json::array({container})}}}};
}

kube::InformerOptions pods_of(const std::string& selector) {
  kube::InformerOptions o;
  o.api_version = "v1";
  o.kind = "Pod";
  o.namespace_name = "ch";
  o.label_selector = selector;
  o.watch_timeout = std::chrono::seconds(30);
  return o;
}

std::vector<std::string> names(const std::vector<json>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o["metadata"]["name"]);
  return out;
}

class InformerTest : public ::testing::Test {
 protected:
  FakeKubeApi api;
  kube::Client client{api.client_config()};
};

TEST_F(InformerTest, ListsThenWatchesFromTheListsVersionAndResumesFromTheLast) {
  api.put(pod("a"));
  api.put(pod("b"));
  api.put(pod("other", "nginx"));
  kube::Informer informer(pods_of("app=clickhouse"));
  EXPECT_FALSE(informer.listed());
  EXPECT_TRUE(informer.sync(client));
  EXPECT_TRUE(informer.listed());
  EXPECT_EQ(names(informer.objects()), (std::vector<std::string>{"a", "b"}));
  const std::string listed_at = informer.resource_version();
  EXPECT_EQ(listed_at, api.resource_version());

  api.put(pod("c"));
  json changed = pod("a");
  changed["status"] = {{"phase", "Running"}};
  api.put(changed);
  api.remove_object({"v1", "Pod", "ch", "b"});
  EXPECT_TRUE(informer.sync(client));
  EXPECT_EQ(names(informer.objects()), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ((*informer.object("a"))["status"]["phase"], "Running");
  EXPECT_EQ((*informer.object("a"))["kind"], "Pod");  // filled in, as a list's items are
  EXPECT_EQ(informer.resource_version(), api.resource_version());  // the bookmark's
  EXPECT_EQ(informer.lists(), 1u);

  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/ch/pods?limit=500&labelSelector=app%3Dclickhouse");
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/api/v1/namespaces/ch/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" +
                                    listed_at + "&timeoutSeconds=30&labelSelector=app%3Dclickhouse");

  // Nothing new: the next watch starts where the last ended and changes nothing.
  const std::string resumed_at = informer.resource_version();
  EXPECT_FALSE(informer.sync(client));
  EXPECT_NE(api.requests().back().target.find("resourceVersion=" + resumed_at + "&"), std::string::npos);
}

TEST_F(InformerTest, AVersionGoneAsAStatusOrAsAnErrorEventMakesTheNextStepAList) {
  for (CompactAnswer how : {CompactAnswer::kHttpGone, CompactAnswer::kErrorEvent}) {
    FakeKubeApi server;
    kube::Client c(server.client_config());
    server.put(pod("a"));
    kube::Informer informer(pods_of(""));
    informer.sync(c);
    server.put(pod("b"));
    server.compact(how);
    server.put(pod("c"));
    EXPECT_FALSE(informer.sync(c));  // 410: nothing applied, nothing thrown
    EXPECT_EQ(informer.resource_version(), "");
    EXPECT_EQ(names(informer.objects()), (std::vector<std::string>{"a"}));  // kept meanwhile
    EXPECT_TRUE(informer.sync(c));
    EXPECT_EQ(names(informer.objects()), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(informer.lists(), 2u);
    EXPECT_EQ(informer.resource_version(), server.resource_version());
  }
}

TEST_F(InformerTest, TheWatchSaysWhyOtherFailuresEndedItAndTheCopyStays) {
  api.put(pod("a"));
  kube::Informer informer(pods_of(""));
  informer.sync(client);
  const std::string version = informer.resource_version();
  api.fail_next([](const RecordedRequest& r) { return r.target.find("watch=1") != std::string::npos; },
                status_answer(403, "Forbidden", "pods is forbidden: User cannot watch"));
  try {
    informer.sync(client);
    ADD_FAILURE() << "no error";
  } catch (const kube::ApiError& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_EQ(e.code(), "kube_Forbidden");
    EXPECT_NE(std::string(e.what()).find("cannot watch"), std::string::npos) << e.what();
  }
  EXPECT_EQ(informer.resource_version(), version);  // resumed from there next time
  EXPECT_EQ(names(informer.objects()), (std::vector<std::string>{"a"}));
}

TEST_F(InformerTest, AWatchNeedsAVersionAndTheReaderMayEndIt) {
  EXPECT_EQ(error_code([&] { client.watch("v1", "Pod", "ch", {}, [](const kube::WatchEvent&) { return true; }); }),
            "kube_watch_invalid");
  const std::string start = api.resource_version();
  api.put(pod("a"));
  api.put(pod("b"));
  kube::WatchOptions options;
  options.resource_version = start;
  int seen = 0;
  std::string last = client.watch("v1", "Pod", "ch", options, [&](const kube::WatchEvent& e) {
    EXPECT_EQ(e.type, "ADDED");
    ++seen;
    return false;  // one is enough
  });
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(last, std::to_string(std::stoll(start) + 1));  // resumes after the one it took
}

TEST_F(InformerTest, ACollectionOverTheBoundIsRefused) {
  for (int i = 0; i < 3; ++i) api.put(pod("p" + std::to_string(i)));
  auto options = pods_of("");
  options.max_objects = 2;
  kube::Informer informer(options);
  EXPECT_NE(error_message([&] { informer.sync(client); }).find("more than 2 objects"), std::string::npos);
  EXPECT_FALSE(informer.listed());
}

}  // namespace
}  // namespace byoc::testing
