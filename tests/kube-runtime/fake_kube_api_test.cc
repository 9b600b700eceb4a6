// The stand-in Kubernetes API server (fake_kube_api.h) through the real
// kube::Client, and through raw requests for what the client doesn't send
// (watches, refused content types): the answers' shapes, the
// resourceVersion and generation bookkeeping, the watch log and its
// compaction, failure injection, and the kubernetes-models check.
#include "fake_kube_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kube/client.h"
#include "kube/resources.h"
#include "testing/testing.h"

namespace byoc::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

json deployment(int replicas, json labels = json::object()) {
  json container = {{"name", "agent"}, {"image", "byoc:1"}};
  json pod_template = {{"metadata", {{"labels", {{"app", "byoc-agent"}}}}},
                       {"spec", {{"containers", json::array({container})}}}};
  json spec = {{"replicas", replicas},
               {"selector", {{"matchLabels", {{"app", "byoc-agent"}}}}},
               {"template", pod_template}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "byoc-agent"}, {"namespace", "byoc-system"}, {"labels", labels}}},
          {"spec", spec}};
}
const kube::ObjectRef kAgent{"apps/v1", "Deployment", "byoc-system", "byoc-agent"};

json pod(const std::string& name, json labels, const std::string& namespace_name = "ch") {
  json container = {{"name", "c"}, {"image", "clickhouse:25"}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", namespace_name}, {"labels", labels}}},
          {"spec", {{"containers", json::array({container})}}}};
}

json config_map(const std::string& name, json data, const std::string& namespace_name = "ch") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", namespace_name}}},
          {"data", data}};
}

std::vector<std::string> names(const std::vector<json>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o["metadata"]["name"]);
  return out;
}

// A watch answer's events, one JSON per line.
std::vector<json> events_of(const std::string& body) {
  std::vector<json> events;
  std::istringstream lines(body);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) events.push_back(json::parse(line));
  return events;
}

// "TYPE name@resourceVersion" for each event: what a watch reported, in short.
std::vector<std::string> summary(const std::vector<json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e["type"].get<std::string>() + " " + e["object"]["metadata"].value("name", "") + "@" +
                  e["object"]["metadata"].value("resourceVersion", ""));
  return out;
}

std::string plus(const std::string& version, int n) { return std::to_string(std::stoull(version) + n); }

class FakeKubeApiTest : public ::testing::Test {
 protected:
  FakeKubeApi api;
  kube::Client client{api.client_config()};
};

TEST_F(FakeKubeApiTest, ApplyCreatesThenANoOpKeepsTheVersionThenASpecChangeBumpsTheGeneration) {
  const std::string start = api.resource_version();
  json created = client.apply(deployment(1));
  EXPECT_EQ(created["metadata"]["resourceVersion"], plus(start, 1));
  EXPECT_EQ(created["metadata"]["generation"], 1);
  EXPECT_FALSE(created["metadata"].value("uid", "").empty());
  EXPECT_FALSE(created["metadata"].value("creationTimestamp", "").empty());
  EXPECT_EQ(created["spec"], deployment(1)["spec"]);

  json again = client.apply(deployment(1));
  EXPECT_EQ(again, created);  // nothing changed: same version, no event
  EXPECT_EQ(api.resource_version(), plus(start, 1));

  json changed_label = client.apply(deployment(1, {{"tier", "agent"}}));
  EXPECT_EQ(changed_label["metadata"]["resourceVersion"], plus(start, 2));
  EXPECT_EQ(changed_label["metadata"]["generation"], 1);  // metadata only

  json scaled = client.apply(deployment(3, {{"tier", "agent"}}));
  EXPECT_EQ(scaled["metadata"]["resourceVersion"], plus(start, 3));
  EXPECT_EQ(scaled["metadata"]["generation"], 2);
  EXPECT_EQ(scaled["metadata"]["uid"], created["metadata"]["uid"]);
  EXPECT_EQ(scaled["metadata"]["creationTimestamp"], created["metadata"]["creationTimestamp"]);
  EXPECT_EQ(api.object(kAgent), scaled);
  EXPECT_EQ(client.get(kAgent), scaled);

  // A create answers 201, an update 200 (the client takes both).
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].target,
            "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?fieldManager=byoc&force=true");
  auto bodies = applied_bodies(requests);
  ASSERT_EQ(bodies.size(), 4u);
  EXPECT_EQ(bodies[3], deployment(3, {{"tier", "agent"}}));
  EXPECT_TRUE(api.sleeps().empty());
}

TEST_F(FakeKubeApiTest, AnApplyAnswersCreatedOnceThenOk) {
  std::string target = "/api/v1/namespaces/ch/configmaps/a?fieldManager=byoc&force=true";
  auto first = api.send_raw("PATCH", target, config_map("a", {{"k", "v"}}).dump(), "application/apply-patch+yaml");
  EXPECT_EQ(first.status, 201);
  auto second = api.send_raw("PATCH", target, config_map("a", {{"k", "v"}}).dump(), "application/apply-patch+yaml");
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(json::parse(second.body), json::parse(first.body));
  // Kinds without generation tracking have none.
  EXPECT_FALSE(json::parse(first.body)["metadata"].contains("generation"));
}

TEST_F(FakeKubeApiTest, ApplyKeepsWhatOthersWroteAndDropsWhatItNoLongerApplies) {
  json object = config_map("settings", {{"a", "1"}, {"b", "2"}});
  object["metadata"]["labels"] = {{"app", "ch"}, {"old", "x"}};
  object["metadata"]["annotations"] = {{"note", "n"}};
  object["binaryData"] = {{"blob", "AAAA"}};
  client.apply(object);
  // Another writer (a controller, say) adds a label of its own.
  json live = *api.object(kube::ref_of(object));
  live["metadata"]["labels"]["controller"] = "added";
  api.put(live);

  json next = config_map("settings", {{"a", "1"}});
  next["metadata"]["labels"] = {{"app", "ch"}};
  json result = client.apply(next);
  EXPECT_EQ(result["data"], json({{"a", "1"}}));                    // the field replaced whole
  EXPECT_FALSE(result.contains("binaryData"));                        // applied before, not now: gone
  EXPECT_EQ(result["metadata"]["labels"], json({{"app", "ch"}, {"controller", "added"}}));
  EXPECT_FALSE(result["metadata"].contains("annotations"));
}

TEST_F(FakeKubeApiTest, StatusOfAbsentObjectThrowsAndStatusIsKeptAcrossApplies) {
  EXPECT_THROW(api.set_status(kAgent, {{"readyReplicas", 1}}), std::out_of_range);
  client.apply(deployment(1));
  json with_status = api.set_status(kAgent, {{"readyReplicas", 1}, {"observedGeneration", 1}});
  json applied = deployment(2);
  applied["status"] = {{"readyReplicas", 99}};
  json result = client.apply(applied);
  EXPECT_EQ(result["status"], json({{"readyReplicas", 1}, {"observedGeneration", 1}}));
  EXPECT_EQ(result["metadata"]["generation"], 2);
  EXPECT_EQ(std::stoull(result["metadata"]["resourceVersion"].get<std::string>()),
            std::stoull(with_status["metadata"]["resourceVersion"].get<std::string>()) + 1);
}

TEST_F(FakeKubeApiTest, EveryKindTheClientAddressesIsServed) {
  // The client builds paths with src/kube/resources.cc; the fake parses them
  // with its own table: a kind they disagree on is refused.
  for (const FakeKind& kind : fake_kube_kinds()) {
    json object = {{"apiVersion", kind.api_version}, {"kind", kind.kind}, {"metadata", {{"name", "x"}}}};
    if (kind.namespaced) object["metadata"]["namespace"] = "ns";
    EXPECT_NO_THROW(client.apply(object)) << kind.kind;
    kube::ObjectRef ref = kube::ref_of(object);
    EXPECT_TRUE(client.get(ref).has_value()) << kind.kind;
    auto all = client.list(kind.api_version, kind.kind, "");
    ASSERT_EQ(all.size(), 1u) << kind.kind;
    EXPECT_EQ(all[0]["kind"], kind.kind);
    EXPECT_EQ(api.objects(kind.kind).size(), 1u) << kind.kind;
    client.remove(ref);
    EXPECT_FALSE(api.object(ref).has_value()) << kind.kind;
  }
}

TEST_F(FakeKubeApiTest, ApplyRefusesWhatTheApiRefuses) {
  const std::string path = "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent";
  const std::string body = deployment(1).dump();
  auto status_of = [](const http::Response& r) { return json::parse(r.body); };

  auto merge = api.send_raw("PATCH", path + "?fieldManager=byoc&force=true", body, "application/merge-patch+json");
  EXPECT_EQ(merge.status, 415);
  EXPECT_EQ(status_of(merge)["reason"], "UnsupportedMediaType");

  auto no_manager = api.send_raw("PATCH", path + "?force=true", body, "application/apply-patch+yaml");
  EXPECT_EQ(no_manager.status, 422);
  EXPECT_EQ(status_of(no_manager)["kind"], "Status");
  EXPECT_EQ(status_of(no_manager)["reason"], "Invalid");
  EXPECT_EQ(status_of(no_manager)["code"], 422);

  for (const auto& [pointer, value] : std::vector<std::pair<std::string, json>>{
           {"/metadata/name", "other"}, {"/metadata/namespace", "elsewhere"}, {"/kind", "StatefulSet"},
           {"/apiVersion", "apps/v1beta1"}}) {
    json wrong = deployment(1);
    wrong[json::json_pointer(pointer)] = value;
    auto answer = api.send_raw("PATCH", path + "?fieldManager=byoc&force=true", wrong.dump(),
                               "application/apply-patch+yaml");
    EXPECT_EQ(answer.status, 400) << pointer;
    EXPECT_EQ(status_of(answer)["reason"], "BadRequest") << pointer;
  }
  auto not_json = api.send_raw("PATCH", path + "?fieldManager=byoc&force=true", "{", "application/apply-patch+yaml");
  EXPECT_EQ(not_json.status, 400);
  EXPECT_FALSE(api.object(kAgent).has_value());
  EXPECT_EQ(api.resource_version(), "1");

  // Without the token: 401 (the client asks for a fresh token once, then fails).
  auto config = api.client_config();
  config.token = [] { return std::string("wrong"); };
  kube::Client stranger(config);
  EXPECT_EQ(error_code([&] { stranger.get(kAgent); }), "kube_Unauthorized");
  // Unknown resources and subresources are 404.
  EXPECT_EQ(api.send_raw("GET", "/apis/apps/v1/namespaces/byoc-system/widgets").status, 404);
  EXPECT_EQ(api.send_raw("GET", path + "/status").status, 404);
  EXPECT_EQ(api.send_raw("POST", "/api/v1/namespaces/ch/configmaps", "{}", "application/json").status, 405);
}

TEST_F(FakeKubeApiTest, GetAnswersTheObjectOrANotFoundStatus) {
  EXPECT_EQ(client.get(kAgent), std::nullopt);
  auto raw = api.send_raw("GET", "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent");
  EXPECT_EQ(raw.status, 404);
  json status = json::parse(raw.body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "NotFound");
  EXPECT_EQ(status["message"], "deployments.apps \"byoc-agent\" not found");
  EXPECT_EQ(status["details"], json({{"name", "byoc-agent"}, {"group", "apps"}, {"kind", "deployments"}}));
  json applied = client.apply(deployment(1));
  EXPECT_EQ(client.get(kAgent), applied);
}

TEST_F(FakeKubeApiTest, ListFiltersBySelectorsAndWalksPages) {
  client.apply(pod("a", {{"app", "ch"}, {"shard", "1"}}));
  client.apply(pod("b", {{"app", "ch"}, {"shard", "2"}}));
  client.apply(pod("c", {{"app", "keeper"}}));
  client.apply(pod("d", json::object()));
  client.apply(pod("e", {{"app", "ch"}}, "other"));
  const std::string version = api.resource_version();

  EXPECT_EQ(names(client.list("v1", "Pod", "ch")), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "")), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "app=ch")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "app=ch,shard==2")), (std::vector<std::string>{"b"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "app!=ch")), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "shard")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "!app")), (std::vector<std::string>{"d"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "ch", "app in (ch, keeper),shard notin (1)")),
            (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(names(client.list("v1", "Pod", "", "app=ch")), (std::vector<std::string>{"a", "b", "e"}));
  EXPECT_EQ(error_code([&] { client.list("v1", "Pod", "ch", "app=(x"); }), "kube_BadRequest");

  // The raw answer: a PodList with the version; items without apiVersion and kind.
  json raw = json::parse(api.send_raw("GET", "/api/v1/namespaces/ch/pods?labelSelector=shard%3D1").body);
  EXPECT_EQ(raw["kind"], "PodList");
  EXPECT_EQ(raw["apiVersion"], "v1");
  EXPECT_EQ(raw["metadata"], json({{"resourceVersion", version}}));
  ASSERT_EQ(raw["items"].size(), 1u);
  EXPECT_FALSE(raw["items"][0].contains("apiVersion"));
  EXPECT_FALSE(raw["items"][0].contains("kind"));
  json field = json::parse(api.send_raw("GET", "/api/v1/pods?fieldSelector=metadata.name%3De").body);
  ASSERT_EQ(field["items"].size(), 1u);
  EXPECT_EQ(field["items"][0]["metadata"]["namespace"], "other");

  api.set_page_size(2);
  api.clear_requests();
  EXPECT_EQ(names(client.list("v1", "Pod", "")), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].target, "/api/v1/pods?limit=500");
  EXPECT_NE(requests[1].target.find("&continue="), std::string::npos);
  json page = json::parse(api.send_raw("GET", "/api/v1/pods?limit=500").body);
  EXPECT_EQ(page["items"].size(), 2u);
  EXPECT_EQ(page["metadata"]["remainingItemCount"], 3);
  EXPECT_EQ(page["metadata"]["resourceVersion"], version);
  // A smaller limit of the client's own wins.
  EXPECT_EQ(json::parse(api.send_raw("GET", "/api/v1/pods?limit=1").body)["items"].size(), 1u);
}

TEST_F(FakeKubeApiTest, DeleteRemovesRecordsThePolicyAndThenIsNotFound) {
  client.apply(deployment(1));
  auto raw = api.send_raw("DELETE", "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?propagationPolicy=Foreground");
  EXPECT_EQ(raw.status, 200);
  json status = json::parse(raw.body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["status"], "Success");
  EXPECT_EQ(client.get(kAgent), std::nullopt);
  EXPECT_EQ(api.send_raw("DELETE", "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent").status, 404);
  EXPECT_NO_THROW(client.remove(kAgent));  // gone already: the client calls it done

  auto deletions = api.deletions();
  ASSERT_EQ(deletions.size(), 3u);
  EXPECT_EQ(kube::describe(deletions[0].ref), "Deployment byoc-system/byoc-agent");
  EXPECT_EQ(deletions[0].propagation_policy, "Foreground");
  EXPECT_EQ(deletions[1].propagation_policy, "");
  EXPECT_EQ(deletions[2].propagation_policy, "Background");
}

TEST_F(FakeKubeApiTest, FinalizersHoldADeletionUntilAWriterClearsThem) {
  json claim = {{"apiVersion", "v1"},
                {"kind", "PersistentVolumeClaim"},
                {"metadata", {{"name", "data-ch-0"}, {"namespace", "ch"}, {"finalizers", {"kubernetes.io/pvc-protection"}}}},
                {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  client.apply(claim);
  kube::ObjectRef ref = kube::ref_of(claim);
  client.remove(ref);
  auto held = api.object(ref);
  ASSERT_TRUE(held.has_value());
  EXPECT_TRUE(held->at("metadata").contains("deletionTimestamp"));
  // The protection controller lets go.
  json released = *held;
  released["metadata"].erase("finalizers");
  EXPECT_EQ(api.put(released), std::nullopt);
  EXPECT_FALSE(api.object(ref).has_value());
}

TEST_F(FakeKubeApiTest, AWatchAnswersExactlyTheLaterEventsThenABookmark) {
  client.apply(config_map("before", {{"k", "v"}}));
  const std::string from = api.resource_version();
  client.apply(config_map("a", {{"k", "1"}}));
  client.apply(config_map("a", {{"k", "2"}}));
  client.apply(config_map("b", {{"k", "1"}}, "elsewhere"));
  client.remove({"v1", "ConfigMap", "ch", "before"});
  client.apply(config_map("a", {{"k", "2"}}));  // no change: no event
  const std::string now = api.resource_version();
  EXPECT_EQ(now, plus(from, 4));

  const std::string collection = "/api/v1/namespaces/ch/configmaps";
  auto answer = api.send_raw("GET", collection + "?watch=1&resourceVersion=" + from +
                                        "&allowWatchBookmarks=true&timeoutSeconds=5");
  EXPECT_EQ(answer.status, 200);
  auto events = events_of(answer.body);
  EXPECT_EQ(summary(events), (std::vector<std::string>{"ADDED a@" + plus(from, 1), "MODIFIED a@" + plus(from, 2),
                                                        "DELETED before@" + plus(from, 4), "BOOKMARK @" + now}));
  EXPECT_EQ(events[1]["object"]["data"], json({{"k", "2"}}));
  EXPECT_EQ(events[1]["object"]["kind"], "ConfigMap");
  EXPECT_EQ(events[3]["object"], json({{"kind", "ConfigMap"}, {"apiVersion", "v1"},
                                       {"metadata", {{"resourceVersion", now}}}}));
  // Across namespaces the other one shows up too.
  auto everywhere = events_of(api.send_raw("GET", "/api/v1/configmaps?watch=true&resourceVersion=" + from).body);
  EXPECT_EQ(summary(everywhere), (std::vector<std::string>{"ADDED a@" + plus(from, 1), "MODIFIED a@" + plus(from, 2),
                                                            "ADDED b@" + plus(from, 3), "DELETED before@" + plus(from, 4)}));
  // At the current version: only the bookmark, or nothing without bookmarks.
  EXPECT_EQ(summary(events_of(api.send_raw("GET", collection + "?watch=1&resourceVersion=" + now +
                                                      "&allowWatchBookmarks=true").body)),
            (std::vector<std::string>{"BOOKMARK @" + now}));
  EXPECT_EQ(api.send_raw("GET", collection + "?watch=1&resourceVersion=" + now).body, "");
  // Without a version (or "0"): the state now, as ADDED.
  EXPECT_EQ(summary(events_of(api.send_raw("GET", collection + "?watch=1&resourceVersion=0").body)),
            (std::vector<std::string>{"ADDED a@" + plus(from, 2)}));
}

TEST_F(FakeKubeApiTest, AWatchBySelectorSeesObjectsEnterAndLeaveIt) {
  client.apply(pod("p", {{"role", "spare"}}));
  const std::string from = api.resource_version();
  client.apply(pod("p", {{"role", "replica"}}));  // enters
  client.apply(pod("p", {{"role", "replica"}, {"zone", "a"}}));  // stays
  client.apply(pod("p", {{"role", "spare"}}));  // leaves
  api.remove_object({"v1", "Pod", "ch", "p"});  // gone, but not from the selection
  auto events = events_of(api.send_raw("GET", "/api/v1/namespaces/ch/pods?watch=1&labelSelector=role%3Dreplica"
                                              "&resourceVersion=" + from).body);
  EXPECT_EQ(summary(events), (std::vector<std::string>{"ADDED p@" + plus(from, 1), "MODIFIED p@" + plus(from, 2),
                                                        "DELETED p@" + plus(from, 3)}));
  // The DELETED of a leaving object is as it was, at the change's version.
  EXPECT_EQ(events[2]["object"]["metadata"]["labels"], json({{"role", "replica"}, {"zone", "a"}}));
}

TEST_F(FakeKubeApiTest, CompactionAnswersTooOldWatchesWith410EitherWay) {
  client.apply(config_map("a", {{"k", "1"}}));
  const std::string old = api.resource_version();
  client.apply(config_map("a", {{"k", "2"}}));
  api.compact();  // kHttpGone
  const std::string compacted = api.resource_version();
  client.apply(config_map("a", {{"k", "3"}}));
  const std::string collection = "/api/v1/namespaces/ch/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=";

  auto gone = api.send_raw("GET", collection + old);
  EXPECT_EQ(gone.status, 410);
  json status = json::parse(gone.body);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "Expired");
  EXPECT_EQ(status["code"], 410);

  api.compact(CompactAnswer::kErrorEvent);
  auto error = api.send_raw("GET", collection + compacted);
  EXPECT_EQ(error.status, 200);
  auto events = events_of(error.body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["kind"], "Status");
  EXPECT_EQ(events[0]["object"]["code"], 410);

  // From the compaction point on, a watch works.
  const std::string now = api.resource_version();
  client.apply(config_map("a", {{"k", "4"}}));
  EXPECT_EQ(summary(events_of(api.send_raw("GET", collection + now).body)),
            (std::vector<std::string>{"MODIFIED a@" + plus(now, 1), "BOOKMARK @" + plus(now, 1)}));
}

TEST_F(FakeKubeApiTest, CompactionExpiresOldContinueTokens) {
  for (std::string name : {"a", "b", "c"}) client.apply(config_map(name, json::object()));
  api.set_page_size(1);
  json first = json::parse(api.send_raw("GET", "/api/v1/namespaces/ch/configmaps?limit=500").body);
  std::string token = first["metadata"]["continue"];
  client.apply(config_map("d", json::object()));
  api.compact();
  auto answer = api.send_raw("GET", "/api/v1/namespaces/ch/configmaps?limit=500&continue=" + token);
  EXPECT_EQ(answer.status, 410);
  EXPECT_EQ(json::parse(answer.body)["reason"], "Expired");
}

TEST_F(FakeKubeApiTest, AnInjectedConflictAnswersInsteadAndChangesNothing) {
  auto is_apply = [](const RecordedRequest& r) { return r.method == "PATCH"; };
  api.fail_next(is_apply, status_answer(409, "Conflict", "Apply failed with 1 conflict: conflict with \"kubectl\""));
  // Whether the client retries a conflicting apply or not, the injected
  // answer came once and changed nothing.
  bool applied = true;
  try {
    client.apply(deployment(1));
  } catch (const kube::ApiError& e) {
    applied = false;
    EXPECT_EQ(e.status(), 409);
    EXPECT_EQ(e.reason(), "Conflict");
  }
  size_t patches = applied_bodies(api.requests()).size();
  EXPECT_EQ(patches, applied ? 2u : 1u);
  EXPECT_EQ(api.object(kAgent).has_value(), applied);
  EXPECT_EQ(api.resource_version(), applied ? "2" : "1");

  // Raw: the injected answer as given, then the fake's own again.
  api.fail_next(is_apply, status_answer(409, "Conflict", "conflict"), 1);
  auto raw = api.send_raw("PATCH", "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?fieldManager=byoc&force=true",
                          deployment(1).dump(), "application/apply-patch+yaml");
  EXPECT_EQ(raw.status, 409);
  EXPECT_EQ(json::parse(raw.body)["code"], 409);
  raw = api.send_raw("PATCH", "/apis/apps/v1/namespaces/byoc-system/deployments/byoc-agent?fieldManager=byoc&force=true",
                     deployment(1).dump(), "application/apply-patch+yaml");
  EXPECT_EQ(raw.status, applied ? 200 : 201);
}

TEST_F(FakeKubeApiTest, InjectedThrottlingIsWaitedOutAsRetryAfterSays) {
  CannedResponse throttled = status_answer(429, "TooManyRequests", "slow down");
  throttled.headers.emplace_back("Retry-After", "3");
  api.fail_next([](const RecordedRequest& r) { return r.method == "GET"; }, throttled, 2);
  EXPECT_EQ(client.get(kAgent), std::nullopt);
  EXPECT_EQ(api.sleeps(), (std::vector<milliseconds>{milliseconds(3000), milliseconds(3000)}));
  EXPECT_EQ(api.requests().size(), 3u);
  // An injected 410 on a watch.
  api.fail_next([](const RecordedRequest& r) { return r.target.find("watch=1") != std::string::npos; },
                status_answer(410, "Gone", "too old"));
  EXPECT_EQ(api.send_raw("GET", "/api/v1/pods?watch=1&resourceVersion=1").status, 410);
  EXPECT_EQ(api.send_raw("GET", "/api/v1/pods?watch=1&resourceVersion=1").status, 200);
}

TEST_F(FakeKubeApiTest, ControllersAreTheTestsPuts) {
  client.apply(deployment(1));
  const std::string from = api.resource_version();
  json replica = pod("byoc-agent-7d9f-x", {{"app", "byoc-agent"}}, "byoc-system");
  json stored = *api.put(replica);
  EXPECT_EQ(stored["metadata"]["resourceVersion"], plus(from, 1));
  EXPECT_EQ(api.put(stored), stored);  // the same again: nothing
  api.set_status(kube::ref_of(replica), {{"phase", "Running"}});
  EXPECT_TRUE(api.remove_object(kube::ref_of(replica)));
  EXPECT_FALSE(api.remove_object(kube::ref_of(replica)));
  EXPECT_EQ(summary(events_of(api.send_raw("GET", "/api/v1/namespaces/byoc-system/pods?watch=1&resourceVersion=" + from).body)),
            (std::vector<std::string>{"ADDED byoc-agent-7d9f-x@" + plus(from, 1), "MODIFIED byoc-agent-7d9f-x@" + plus(from, 2),
                                      "DELETED byoc-agent-7d9f-x@" + plus(from, 3)}));
  EXPECT_EQ(api.objects("Deployment").size(), 1u);
  EXPECT_EQ(api.objects("Deployment", "elsewhere").size(), 0u);
  EXPECT_THROW(api.put({{"apiVersion", "v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w"}}}}), std::invalid_argument);
  EXPECT_THROW(api.put(config_map("x", json::object(), "")), std::invalid_argument);
}

TEST_F(FakeKubeApiTest, NamespacesCanBeRequired) {
  api.set_namespaces_must_exist(true);
  EXPECT_EQ(error_code([&] { client.apply(config_map("a", json::object())); }), "kube_NotFound");
  client.apply({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "ch"}}}});
  EXPECT_NO_THROW(client.apply(config_map("a", json::object())));
}

TEST_F(FakeKubeApiTest, ClientsOnSeveralThreadsAtOnce) {
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      kube::Client own(api.client_config());
      for (int i = 0; i < kEach; ++i) {
        own.apply(config_map("t" + std::to_string(t) + "-" + std::to_string(i), {{"i", std::to_string(i)}}));
        own.list("v1", "ConfigMap", "ch");
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(api.objects("ConfigMap", "ch").size(), size_t{kThreads * kEach});
  EXPECT_EQ(api.resource_version(), std::to_string(1 + kThreads * kEach));
  EXPECT_EQ(events_of(api.send_raw("GET", "/api/v1/configmaps?watch=1&resourceVersion=1").body).size(),
            size_t{kThreads * kEach});
}

TEST_F(FakeKubeApiTest, TheKubernetesModelsCheckTellsValidFromInvalid) {
  json live = client.apply(deployment(2));
  EXPECT_EQ(kubernetes_models_failures({deployment(2), live}), "");
  json broken = deployment(2);
  broken["spec"]["replicas"] = "two";
  std::string failures = kubernetes_models_failures({broken});
  EXPECT_NE(failures.find("Deployment byoc-agent"), std::string::npos) << failures;
  EXPECT_NE(failures.find("replicas"), std::string::npos) << failures;
}

}  // namespace
}  // namespace byoc::testing
