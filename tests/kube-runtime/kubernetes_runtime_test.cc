// The kubernetes runtime against the stand-in API server (fake_kube_api.h):
// the exact requests of a create, a service going from 2 to 3 replicas, an
// allowlist change and a delete — server-side apply bodies checked against
// the Kubernetes 1.33 schemas (kubernetes-models), paths, content type,
// field manager, no dryRun — a conflict retried, a watch ending in 410 that
// recovers, and the READY promise: never the previous spec's health for
// the new one's. The tests play the controllers and the kubelet.
#include "agent/runtimes/kubernetes/kubernetes_runtime.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <set>

#include "agent/runtimes/kubernetes/version_rollout.h"
#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "fake_kube_api.h"
#include "kube_service_spec.h"
#include "model/protocol.h"
#include "testing/testing.h"

namespace byoc::testing {
namespace {

using agent::ServiceSpec;
using agent::ServiceState;
using agent::ReplicaState;
using nlohmann::json;
namespace rk = render::kubernetes;

constexpr const char* kNamespace = "byoc-services";
constexpr const char* kEnvironment = "env-0123456789abcdef";

ServiceSpec spec(const std::string& name, int shards, int replicas) { return kube_service_spec(name, shards, replicas); }

crypto::KeyedCertificate environment_ca() {
  crypto::CertificateSpec c;
  c.common_name = "byoc test environment CA";
  c.is_ca = true;
  auto now = std::chrono::system_clock::now();
  c.not_before = now - std::chrono::hours(1);
  c.not_after = now + std::chrono::hours(24 * 365 * 2);
  return crypto::make_ca(c);
}

std::string key_of(const json& o) { return o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>(); }

// "METHOD /path" without the query: what a request addressed.
std::string addressed(const RecordedRequest& r) { return r.method + " " + r.target.substr(0, r.target.find('?')); }

bool is_change(const RecordedRequest& r) { return r.method != "GET"; }

// The status of a pod whose ClickHouse keeps crashing.
json crash_looping() {
  return {{"phase", "Running"},
          {"conditions", json::array({{{"type", "Ready"}, {"status", "False"}}})},
          {"containerStatuses",
           json::array({{{"name", "clickhouse"}, {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}})}};
}

json labelled(json labels, const std::string& revision) {
  labels["controller-revision-hash"] = revision;
  return labels;
}

class KubernetesRuntimeTest : public ::testing::Test {
 protected:
  // `quiet`: after their first list and watch the informers wait an hour,
  // so every later request is the runtime's own and can be checked exactly.
  std::unique_ptr<agent::Runtime> make_runtime(bool quiet = false) {
    agent::KubernetesRuntimeOptions o;
    o.root = root.path() / "services";
    o.environment_ca = ca;
    o.clock = runtime_clock ? runtime_clock : &clock;
    o.versions = versions;
    o.environment_id = kEnvironment;
    o.client = api.client_config();
    o.watch_pause = quiet ? std::chrono::milliseconds(3'600'000) : std::chrono::milliseconds(20);
    o.failure_pause = std::chrono::milliseconds(50);
    auto runtime = agent::make_kubernetes_runtime(o);
    if (quiet) {
      // Four informers, each a list then a watch.
      EXPECT_TRUE(eventually([&] { return api.requests().size() >= 8; }, std::chrono::seconds(10)));
      api.clear_requests();
    }
    return runtime;
  }

  // What the renderer makes of `specs` as the runtime renders it: with the
  // certificate revision of each service's TLS Secret as the API holds it.
  std::vector<json> rendered(const std::vector<ServiceSpec>& specs) {
    model::DesiredState state;
    state.environment_id = kEnvironment;
    state.services = specs;
    rk::KubernetesOptions options;
    for (const auto& s : specs) {
      auto tls = api.object({"v1", "Secret", kNamespace, rk::tls_secret_name(s.name)});
      EXPECT_TRUE(tls.has_value());
      if (tls) options.certificate_revisions[s.name] = crypto::sha256_hex(*crypto::base64_decode(
                                                           (*tls)["data"]["tls.crt"].get<std::string>()))
                                                           .substr(0, 16);
    }
    return rk::render_kubernetes(state, options);
  }

  // Plays the controllers and the kubelet: every workload of `service` has
  // rolled out what was last applied, its pods are ready, and its endpoint's
  // load balancer has a name. Pods below a StatefulSet's partition keep
  // what they run; those named in `crashing` are made anew crash-looping.
  void roll_out(const std::string& service, int shards, int replicas, const std::string& host = "lb.example",
                const std::set<std::string>& crashing = {}) {
    for (int shard = 1; shard <= shards; ++shard) {
      const std::string name = rk::shard_stateful_set_name(service, shard);
      kube::ObjectRef ref{"apps/v1", "StatefulSet", kNamespace, name};
      json set = *api.object(ref);
      const int64_t generation = set["metadata"]["generation"];
      // As the controller names revisions: from the pod template alone.
      const std::string revision = name + "-" + crypto::sha256_hex(set["spec"]["template"].dump()).substr(0, 10);
      const int partition = set["spec"]["updateStrategy"].value("rollingUpdate", json::object()).value("partition", 0);
      api.set_status(ref, {{"observedGeneration", generation},
                           {"replicas", replicas},
                           {"readyReplicas", replicas},
                           {"updatedReplicas", replicas - std::min(partition, replicas)},
                           {"currentRevision", partition > 0 ? name + "-current" : revision},
                           {"updateRevision", revision}});
      for (int r = 0; r < replicas; ++r) {
        auto held = api.object({"v1", "Pod", kNamespace, name + "-" + std::to_string(r)});
        if (r < partition && held) continue;
        json pod = {{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata",
                     {{"name", name + "-" + std::to_string(r)},
                      {"namespace", kNamespace},
                      {"labels", labelled(set["spec"]["template"]["metadata"]["labels"], revision)}}},
                    {"spec", set["spec"]["template"]["spec"]},
                    // Ready, the runtime's serving gate open as it is
                    // once a replica has its tables (kubernetes_scaling_test.cc
                    // plays that gate with real replicas behind).
                    {"status",
                     {{"phase", "Running"},
                      {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}},
                                                  {{"type", rk::kServingCondition}, {"status", "True"}}})}}}};
        if (crashing.count(pod["metadata"]["name"])) pod["status"] = crash_looping();
        api.put(pod);
      }
    }
    kube::ObjectRef deployment{"apps/v1", "Deployment", kNamespace, rk::endpoint_service_name(service)};
    json d = *api.object(deployment);
    const int64_t endpoints = d["spec"]["replicas"];
    api.set_status(deployment, {{"observedGeneration", d["metadata"]["generation"]},
                                {"replicas", endpoints},
                                {"readyReplicas", endpoints},
                                {"updatedReplicas", endpoints},
                                {"availableReplicas", endpoints}});
    api.set_status({"v1", "Service", kNamespace, rk::endpoint_service_name(service)},
                   {{"loadBalancer", {{"ingress", json::array({{{"hostname", host}}})}}}});
  }

  std::optional<agent::ServiceStatus> status_of(agent::Runtime& runtime, const std::string& service) {
    for (auto& s : runtime.observe())
      if (s.name == service) return s;
    return std::nullopt;
  }

  bool ready(agent::Runtime& runtime, const std::string& service) {
    auto s = status_of(runtime, service);
    return s && s->state == ServiceState::kReady;
  }

  // What the agent does between two looks, and the cluster meanwhile: the
  // runtime's periodic chances to make progress (supervise() finds a
  // certificate to renew, the next set_support_gateway() renews it) and the
  // controllers rolling out what it applied. True once READY.
  bool settle(agent::Runtime& runtime, const std::string& service, int shards, int replicas,
              const std::string& host = "lb.example") {
    roll_out(service, shards, replicas, host);
    runtime.supervise();
    runtime.set_support_gateway(gateway);
    roll_out(service, shards, replicas, host);
    return ready(runtime, service);
  }

  // Every apply request since `from`: server-side apply, by byoc, forced,
  // never a dry run; each body valid for Kubernetes 1.33.
  void expect_applies_well_formed(size_t from = 0) {
    auto requests = api.requests();
    std::vector<RecordedRequest> applies;
    for (size_t i = from; i < requests.size(); ++i) {
      const auto& r = requests[i];
      EXPECT_EQ(r.target.find("dryRun"), std::string::npos) << r.target;
      if (r.method != "PATCH") continue;
      EXPECT_EQ(r.header("content-type"), "application/apply-patch+yaml") << r.target;
      EXPECT_EQ(r.target.substr(r.target.find('?')), "?fieldManager=byoc&force=true") << r.target;
      applies.push_back(r);
    }
    auto bodies = applied_bodies(applies);
    ASSERT_FALSE(bodies.empty());
    EXPECT_EQ(kubernetes_models_failures(bodies), "");
  }

  agent::SupportGateway gateway;  // off
  agent::VersionList versions = agent::default_versions();
  const Clock* runtime_clock = nullptr;  // nullptr: `clock`
  TempDir root;
  SystemClock clock;
  crypto::KeyedCertificate ca = environment_ca();
  FakeKubeApi api;
};

TEST_F(KubernetesRuntimeTest, CreateIsTheRenderedObjectsAppliedInOrderAfterTheSecretsTheyReferTo) {
  auto runtime = make_runtime(/*quiet=*/true);
  agent::ServiceStatus status = runtime->apply(spec("orders", 1, 1));
  EXPECT_EQ(status.state, ServiceState::kProvisioning);
  EXPECT_EQ(status.reason, "starting");

  const auto requests = api.requests();
  const auto expected_objects = rendered({spec("orders", 1, 1)});
  std::vector<std::string> expected = {
      "GET /api/v1/namespaces/byoc-services/secrets/orders-credentials",
      "PATCH /api/v1/namespaces/byoc-services/secrets/orders-credentials",
      "GET /api/v1/namespaces/byoc-services/services/orders-endpoint",  // what the certificate must name
      "GET /api/v1/namespaces/byoc-services/secrets/orders-tls",
      "PATCH /api/v1/namespaces/byoc-services/secrets/orders-tls",
  };
  for (const auto& o : expected_objects) expected.push_back("PATCH " + kube::object_path(kube::ref_of(o)));
  // Then what to prune: the service's objects, then the environment's.
  const std::vector<std::string> collections = {
      "/apis/apps/v1/namespaces/byoc-services/deployments",
      "/api/v1/namespaces/byoc-services/services",
      "/apis/apps/v1/namespaces/byoc-services/statefulsets",
      "/apis/policy/v1/namespaces/byoc-services/poddisruptionbudgets",
      "/apis/networking.k8s.io/v1/namespaces/byoc-services/networkpolicies",
      "/api/v1/namespaces/byoc-services/configmaps",
      "/api/v1/namespaces/byoc-services/secrets"};
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& c : collections) expected.push_back("GET " + c);
  // No replicated service: no ensemble, nor its volume claims (looked for every time: a crash may have left some).
  expected.push_back("GET /api/v1/namespaces/byoc-services/persistentvolumeclaims");
  std::vector<std::string> got;
  for (const auto& r : requests) got.push_back(addressed(r));
  EXPECT_EQ(got, expected);
  // The service's lists select it; the environment's, everything of the environment.
  const std::string ours = "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dbyoc%2Cbyoc.io%2Fenvironment%3D" +
                           std::string(kEnvironment);
  ASSERT_EQ(requests.size(), expected.size());
  EXPECT_NE(requests[5 + expected_objects.size()].target.find(ours + "%2Cbyoc.io%2Fservice%3Dorders"), std::string::npos);
  EXPECT_EQ(requests[requests.size() - 2].target.substr(requests[requests.size() - 2].target.find("labelSelector")), ours);

  // The bodies are the renderer's, exactly; the Secrets hold what the pods read.
  auto bodies = applied_bodies(requests);
  ASSERT_EQ(bodies.size(), 2 + expected_objects.size());
  for (size_t i = 0; i < expected_objects.size(); ++i) EXPECT_EQ(bodies[2 + i], expected_objects[i]) << i;
  const json& credentials = bodies[0];
  EXPECT_EQ(credentials["type"], "Opaque");
  EXPECT_EQ(credentials["metadata"]["labels"]["byoc.io/service"], "orders");
  std::string cluster_password = *crypto::base64_decode(credentials["data"][rk::kClusterPasswordKey].get<std::string>());
  EXPECT_EQ(cluster_password.size(), 48u);
  const json& tls = bodies[1];
  EXPECT_EQ(tls["type"], "kubernetes.io/tls");
  std::string cert = *crypto::base64_decode(tls["data"]["tls.crt"].get<std::string>());
  EXPECT_TRUE(crypto::verify_issued_by(cert, ca.cert_pem, clock.system_time()));
  EXPECT_EQ(tls["metadata"]["annotations"]["byoc.io/certificate-names"],
            "orders-endpoint.byoc-services.svc,orders-endpoint.byoc-services.svc.cluster.local");
  expect_applies_well_formed();

  // The spec is on disk, for the agent's restart; only its owner reads it.
  struct stat st {};
  ASSERT_EQ(::stat((root.path() / "services/orders/spec.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The same apply again changes nothing: the Secrets are kept, nothing pruned.
  api.clear_requests();
  runtime->apply(spec("orders", 1, 1));
  for (const auto& r : api.requests()) {
    EXPECT_NE(r.method, "DELETE") << r.target;
    EXPECT_EQ(r.target.find("/secrets/orders-credentials?"), std::string::npos) << "credentials rewritten";
    EXPECT_EQ(r.target.find("/secrets/orders-tls?"), std::string::npos) << "certificate reissued";
  }
}

TEST_F(KubernetesRuntimeTest, ReadyOnlyOnceWhatWasAppliedHasRolledOutAndTheCertificateNamesTheLoadBalancer) {
  auto runtime = make_runtime();
  runtime->apply(spec("orders", 1, 1));
  EXPECT_EQ(runtime->services(), std::vector<std::string>{"orders"});
  roll_out("orders", 1, 1);
  // Everything rolled out, but the certificate doesn't name the load
  // balancer a client would reach: not READY.
  ASSERT_TRUE(eventually([&] { return status_of(*runtime, "orders")->endpoint == "https://lb.example:443"; },
                         std::chrono::seconds(10)));
  EXPECT_FALSE(ready(*runtime, "orders"));
  const int64_t before = (*api.object({"apps/v1", "Deployment", kNamespace, "orders-endpoint"}))["metadata"]["generation"];
  // supervise() finds it; the next set_support_gateway() issues one that
  // names it, which rolls the endpoint (nginx reads it at start).
  runtime->supervise();
  runtime->set_support_gateway(gateway);
  auto tls = *api.object({"v1", "Secret", kNamespace, "orders-tls"});
  EXPECT_EQ(tls["metadata"]["annotations"]["byoc.io/certificate-names"],
            "lb.example,orders-endpoint.byoc-services.svc,orders-endpoint.byoc-services.svc.cluster.local");
  EXPECT_EQ((*api.object({"apps/v1", "Deployment", kNamespace, "orders-endpoint"}))["metadata"]["generation"], before + 1);
  // Until the controller has rolled it out, the old pods' health is not the new spec's.
  EXPECT_FALSE(ready(*runtime, "orders"));
  ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 1); }, std::chrono::seconds(10)));
  auto status = *status_of(*runtime, "orders");
  EXPECT_EQ(status.endpoint, "https://lb.example:443");
  EXPECT_EQ(status.native_endpoint, "lb.example:9440");
  ASSERT_EQ(status.replicas.size(), 1u);
  EXPECT_EQ(status.replicas[0].state, ReplicaState::kRunning);
  // Nothing more to do: no more applies.
  const size_t requests = api.requests().size();
  runtime->supervise();
  runtime->set_support_gateway(gateway);
  for (size_t i = requests; i < api.requests().size(); ++i) EXPECT_FALSE(is_change(api.requests()[i]));

  // A crashing replica is reported as such.
  json pod = *api.object({"v1", "Pod", kNamespace, "orders-s1-0"});
  pod["status"] = crash_looping();
  api.put(pod);
  EXPECT_TRUE(eventually([&] {
    auto s = status_of(*runtime, "orders");
    return s && s->state == ServiceState::kProvisioning && s->replicas[0].state == ReplicaState::kRestarting;
  }, std::chrono::seconds(10)));
}

TEST_F(KubernetesRuntimeTest, ARolloutRequestWithoutAVersionChangeIsDoneAtOnce) {
  auto runtime = make_runtime();
  ServiceSpec s = spec("orders", 1, 1);
  s.rollout = model::RolloutRequest{"upg-0123456789abcdef", 1, 0};
  runtime->apply(s);
  auto status = status_of(*runtime, "orders");
  ASSERT_TRUE(status && status->rollout);
  EXPECT_EQ(*status->rollout, (model::ReportedRollout{"upg-0123456789abcdef", "done", 1, 1, 0, 0, ""}));
  EXPECT_EQ(status->reason, "starting");  // what the plane waits for as well
  ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 1); }, std::chrono::seconds(10)));
  // Without a request, nothing is reported.
  runtime->apply(spec("orders", 1, 1));
  EXPECT_FALSE(status_of(*runtime, "orders")->rollout);
}

// A rollout's moves are the runtime's own, on a clock the test moves.
class KubernetesRolloutTest : public KubernetesRuntimeTest {
 protected:
  static constexpr const char* kOld = "registry.example/clickhouse-server@sha256:"
                                      "1111111111111111111111111111111111111111111111111111111111111111";
  static constexpr const char* kNew = "registry.example/clickhouse-server@sha256:"
                                      "2222222222222222222222222222222222222222222222222222222222222222";

  void SetUp() override {
    versions = agent::parse_versions(std::string(R"({"clickhouse":{"18.16.1":{"image":")") + kOld +
                                     R"("},"24.8-lts":{"image":")" + kNew + R"("}}})");
    runtime_clock = &manual;
  }

  // What the agent does between two looks while the test plays the cluster:
  // time passes (the informers watch again) and a report goes out.
  bool after_a_round(agent::Runtime& runtime, const std::function<bool()>& done) {
    return eventually([&] {
      manual.advance(std::chrono::milliseconds(20));
      runtime.set_support_gateway(gateway);
      return done();
    }, std::chrono::seconds(10));
  }

  json stateful_set() { return *api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}); }
  std::string template_image() { return stateful_set()["spec"]["template"]["spec"]["containers"][0]["image"]; }
  int partition() {
    return stateful_set()["spec"]["updateStrategy"].value("rollingUpdate", json::object()).value("partition", -1);
  }
  std::string pod_image(int ordinal) {
    return (*api.object({"v1", "Pod", kNamespace, "orders-s1-" + std::to_string(ordinal)}))["spec"]["containers"][0]["image"];
  }
  model::ReportedRollout reported() { return status_of(*runtime, "orders")->rollout.value_or(model::ReportedRollout{}); }

  // The rollout's first step (orders-s1-1) begins, its new pod crashes, and
  // its bound passes: the rollout fails.
  void fail_the_first_step() {
    roll_out("orders", 1, 2);
    ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 1; }));
    // Made anew, never ready (never seen ready by an informer either).
    roll_out("orders", 1, 2, "lb.example", {"orders-s1-1"});
    manual.set_unix_seconds(manual.unix_seconds() + agent::kube_runtime::kStepBound.count());
    ASSERT_TRUE(after_a_round(*runtime, [&] { return reported().state == "failed"; }));
  }

  ServiceSpec upgrade(const std::string& version, int64_t not_after, const std::string& id = "upg-1") {
    ServiceSpec s = spec("orders", 1, 2);
    s.clickhouse_version = version;
    s.rollout = model::RolloutRequest{id, 1, not_after};
    return s;
  }

  void SetUpRunning() {
    runtime = make_runtime();
    runtime->apply(spec("orders", 1, 2));
    ASSERT_EQ(template_image(), kOld);
    ASSERT_TRUE(after_a_round(*runtime, [&] { return settle(*runtime, "orders", 1, 2); }));
  }

  ManualClock manual{std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count()};
  std::unique_ptr<agent::Runtime> runtime;
};

TEST_F(KubernetesRolloutTest, AVersionTheListLacksIsRefusedAndNothingIsSent) {
  ASSERT_NO_FATAL_FAILURE(SetUpRunning());
  const size_t from = api.requests().size();
  agent::ServiceStatus refused = runtime->apply(upgrade("25.1", 0));
  EXPECT_EQ(refused.state, ServiceState::kFailed);
  EXPECT_EQ(refused.reason, "unsupported_version");
  const model::ReportedRollout unknown{"upg-1", "failed", 0, 2, 0, 0, "version_unknown"};
  EXPECT_EQ(refused.rollout, unknown);
  for (size_t i = from; i < api.requests().size(); ++i) EXPECT_FALSE(is_change(api.requests()[i])) << api.requests()[i].target;
  // What ran before keeps serving, and the refusal is reported with it.
  auto status = *status_of(*runtime, "orders");
  EXPECT_EQ(status.state, ServiceState::kReady);
  EXPECT_EQ(status.rollout, unknown);
  EXPECT_EQ(template_image(), kOld);
}

TEST_F(KubernetesRolloutTest, OneReplicaAtATimeOnTheListedImageAndNoStepAtOrAfterNotAfter) {
  ASSERT_NO_FATAL_FAILURE(SetUpRunning());
  const int64_t not_after = manual.unix_seconds() + 3600;
  runtime->apply(upgrade("24.8-lts", not_after));
  // The new image, every pod held on the old one.
  EXPECT_EQ(template_image(), kNew);
  EXPECT_EQ(partition(), 2);
  EXPECT_EQ(reported(), (model::ReportedRollout{"upg-1", "rolling", 0, 2, 0, 0, ""}));
  EXPECT_EQ(status_of(*runtime, "orders")->reason, "rolling");
  expect_applies_well_formed();
  // Once the controller has seen it, the highest ordinal moves; the other stays.
  roll_out("orders", 1, 2);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 1; }));
  roll_out("orders", 1, 2);
  EXPECT_EQ(pod_image(1), kNew);
  EXPECT_EQ(pod_image(0), kOld);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return reported().replicas_done == 1; }));
  // The window closes: the other replica is not touched, the service serves on the mix.
  manual.set_unix_seconds(not_after);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return reported().state == "waiting"; }));
  EXPECT_EQ(partition(), 1);
  auto status = *status_of(*runtime, "orders");
  EXPECT_EQ(status.reason, "rollout_waiting");
  EXPECT_EQ(*status.rollout, (model::ReportedRollout{"upg-1", "waiting", 1, 2, 0, 0, ""}));
  for (int i = 0; i < 5; ++i) after_a_round(*runtime, [] { return true; });
  EXPECT_EQ(partition(), 1);
  EXPECT_EQ(pod_image(0), kOld);
  // The next window: the same request, moved. The last step, then done: no partition left.
  manual.set_unix_seconds(not_after + 86'400);
  runtime->apply(upgrade("24.8-lts", not_after + 86'400 + 3600));
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 0; }));
  roll_out("orders", 1, 2);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == -1; }));
  EXPECT_EQ(pod_image(0), kNew);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return settle(*runtime, "orders", 1, 2); }));
  EXPECT_EQ(reported(), (model::ReportedRollout{"upg-1", "done", 2, 2, 0, 0, ""}));
  expect_applies_well_formed();
}

// A resize asked for in a window keeps the image: it moves one replica at
// a time as a version does, and no step begins at or after not_after.
TEST_F(KubernetesRolloutTest, AResizeInAWindowMovesOneReplicaAtATimeAndNoneAtOrAfterNotAfter) {
  ASSERT_NO_FATAL_FAILURE(SetUpRunning());
  auto pod_cpu = [&](int ordinal) {
    return (*api.object({"v1", "Pod", kNamespace, "orders-s1-" + std::to_string(ordinal)}))["spec"]["containers"][0]
        ["resources"]["limits"]["cpu"].get<std::string>();
  };
  ASSERT_EQ(pod_cpu(0), "1500m");
  const int64_t not_after = manual.unix_seconds() + 3600;
  ServiceSpec bigger = upgrade("18.16.1", not_after, "resize-1");
  bigger.cpu_millis = 3000;
  bigger.memory_mib = 12288;
  runtime->apply(bigger);
  // The new size in the template, every pod held on the old one.
  EXPECT_EQ(template_image(), kOld);
  EXPECT_EQ(stateful_set()["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"], "3000m");
  EXPECT_EQ(partition(), 2);
  EXPECT_EQ(reported(), (model::ReportedRollout{"resize-1", "rolling", 0, 2, 0, 0, ""}));
  roll_out("orders", 1, 2);
  EXPECT_EQ(pod_cpu(0), "1500m");
  EXPECT_EQ(pod_cpu(1), "1500m");
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 1; }));
  // The step's pod is replaced: same image, new revision; it ends the step.
  roll_out("orders", 1, 2);
  EXPECT_EQ(pod_cpu(1), "3000m");
  EXPECT_EQ(pod_cpu(0), "1500m");
  ASSERT_TRUE(after_a_round(*runtime, [&] { return reported().replicas_done == 1; }));
  manual.set_unix_seconds(not_after);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return reported().state == "waiting"; }));
  for (int i = 0; i < 5; ++i) after_a_round(*runtime, [] { return true; });
  EXPECT_EQ(partition(), 1);
  EXPECT_EQ(pod_cpu(0), "1500m");
  // The next window: the last step, then done.
  bigger.rollout->not_after = not_after + 86'400 + 3600;
  manual.set_unix_seconds(not_after + 86'400);
  runtime->apply(bigger);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 0; }));
  roll_out("orders", 1, 2);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == -1; }));
  EXPECT_EQ(pod_cpu(0), "3000m");
  ASSERT_TRUE(after_a_round(*runtime, [&] { return settle(*runtime, "orders", 1, 2); }));
  EXPECT_EQ(reported(), (model::ReportedRollout{"resize-1", "done", 2, 2, 0, 0, ""}));
  // The same size again with another request: nothing to roll.
  bigger.rollout->id = "resize-2";
  runtime->apply(bigger);
  EXPECT_EQ(reported(), (model::ReportedRollout{"resize-2", "done", 2, 2, 0, 0, ""}));
  EXPECT_EQ(partition(), -1);
  expect_applies_well_formed();
}

// A resize whose step failed stays held where it stopped when the next
// desired state carries no request (the plane drops an ended resize's):
// the controller must not move the others to the size that just failed.
TEST_F(KubernetesRolloutTest, AFailedResizeKeepsItsPodsHeldWithoutARequestUntilTheSizeChanges) {
  ASSERT_NO_FATAL_FAILURE(SetUpRunning());
  ServiceSpec bigger = upgrade("18.16.1", 0, "resize-1");
  bigger.cpu_millis = 3000;
  runtime->apply(bigger);
  ASSERT_NO_FATAL_FAILURE(fail_the_first_step());
  EXPECT_EQ(partition(), 2);
  ServiceSpec unrequested = bigger;
  unrequested.rollout.reset();
  runtime->apply(unrequested);
  for (int i = 0; i < 3; ++i) after_a_round(*runtime, [] { return true; });
  EXPECT_EQ(partition(), 2);
  EXPECT_EQ(reported().state, "failed");
  // The customer's next size, now: the controller's to roll.
  ServiceSpec back = spec("orders", 1, 2);
  runtime->apply(back);
  EXPECT_EQ(partition(), -1);
}

TEST_F(KubernetesRolloutTest, AReplicaNotReadyInTimeGoesBackAndTheRolloutStops) {
  ASSERT_NO_FATAL_FAILURE(SetUpRunning());
  runtime->apply(upgrade("24.8-lts", 0));
  ASSERT_NO_FATAL_FAILURE(fail_the_first_step());
  json pod = *api.object({"v1", "Pod", kNamespace, "orders-s1-1"});
  EXPECT_EQ(reported(), (model::ReportedRollout{"upg-1", "failed", 0, 2, 1, 2, "start"}));
  EXPECT_EQ(partition(), 2);  // above it again: deleted, it comes back on the old revision
  ASSERT_TRUE(after_a_round(*runtime, [&] {
    for (const auto& d : api.deletions())
      if (d.ref.kind == "Pod" && d.ref.name == "orders-s1-1") return true;
    return false;
  }));
  // The controller recreates it below the partition: the old image. The service serves, the rollout stays stopped.
  pod["spec"]["containers"][0]["image"] = kOld;
  pod["metadata"]["labels"] = (*api.object({"v1", "Pod", kNamespace, "orders-s1-0"}))["metadata"]["labels"];
  pod["status"] = {{"phase", "Running"}, {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}};
  pod["metadata"].erase("deletionTimestamp");
  api.put(pod);
  roll_out("orders", 1, 2);  // the partition raised again, rolled out
  ASSERT_TRUE(after_a_round(*runtime, [&] { return status_of(*runtime, "orders")->state == ServiceState::kReady; }))
      << status_of(*runtime, "orders")->reason;
  EXPECT_EQ(status_of(*runtime, "orders")->reason, "rollout_failed");
  runtime->apply(upgrade("24.8-lts", 0));
  for (int i = 0; i < 3; ++i) after_a_round(*runtime, [] { return true; });
  EXPECT_EQ(partition(), 2);
  EXPECT_EQ(reported().state, "failed");
  // A new request starts over.
  runtime->apply(upgrade("24.8-lts", 0, "upg-2"));
  roll_out("orders", 1, 2);
  ASSERT_TRUE(after_a_round(*runtime, [&] { return partition() == 1; }));
}

TEST_F(KubernetesRuntimeTest, TwoToThreeReplicasScalesTheStatefulSetAndOneReplicaInAllIsRefused) {
  auto runtime = make_runtime();
  runtime->apply(spec("orders", 1, 2));
  ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 2); }, std::chrono::seconds(10)));
  const size_t from = api.requests().size();

  agent::ServiceStatus status = runtime->apply(spec("orders", 1, 3));
  // The informer still holds the 1-replica StatefulSet, rolled out and
  // ready: that is not the new spec's health.
  EXPECT_EQ(status.state, ServiceState::kProvisioning);
  EXPECT_FALSE(ready(*runtime, "orders"));

  std::map<std::string, json> applied;
  auto requests = api.requests();
  std::vector<RecordedRequest> since(requests.begin() + static_cast<long>(from), requests.end());
  for (const auto& body : applied_bodies(since)) applied[key_of(body)] = body;
  const json& set = applied.at("StatefulSet/orders-s1");
  EXPECT_EQ(set["spec"]["replicas"], 3);
  // The chroot of this incarnation of orders.
  EXPECT_EQ(set["spec"]["template"]["spec"]["initContainers"][0]["command"].back().get<std::string>().rfind("/byoc/orders-", 0),
            0u);
  EXPECT_EQ(applied.at("ConfigMap/orders-s1-config")["data"].size(), 3u);  // a config.xml per replica
  EXPECT_EQ(applied.at("StatefulSet/byoc-zookeeper")["spec"]["replicas"], 3);
  EXPECT_TRUE(applied.count("NetworkPolicy/byoc-zookeeper"));
  for (const auto& r : since) EXPECT_NE(r.method, "DELETE") << r.target;  // scaling up removes nothing
  expect_applies_well_formed(from);

  ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 3); }, std::chrono::seconds(10)));
  auto replicas = status_of(*runtime, "orders")->replicas;
  ASSERT_EQ(replicas.size(), 3u);
  EXPECT_EQ(replicas[2].replica, 3);
  EXPECT_EQ(replicas[2].state, ReplicaState::kRunning);

  // The number of shards is not the runtime's to change, nor ZooKeeper's
  // presence (one replica in all has none): refused, nothing sent.
  for (const ServiceSpec& other : {spec("orders", 2, 3), spec("orders", 1, 1)}) {
    const size_t before_refusal = api.requests().size();
    auto refused = runtime->apply(other);
    EXPECT_EQ(refused.state, ServiceState::kFailed);
    EXPECT_EQ(refused.reason, "unsupported_topology");
    requests = api.requests();
    for (size_t i = before_refusal; i < requests.size(); ++i) EXPECT_FALSE(is_change(requests[i])) << requests[i].target;
  }
}

TEST_F(KubernetesRuntimeTest, AnApplyCutShortIsNotReadyAndAPasswordChangeRollsTheReplicas) {
  auto runtime = make_runtime();
  runtime->apply(spec("orders", 1, 1));
  ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 1); }, std::chrono::seconds(10)));
  const int64_t before = (*api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}))["metadata"]["generation"];

  // The API fails for good halfway: the spec is recorded, but not as applied.
  ServiceSpec changed = spec("orders", 1, 1);
  changed.default_password_sha256_hex = crypto::sha256_hex("a new password");
  api.fail_next([](const RecordedRequest& r) { return r.method == "PATCH" && r.target.find("/statefulsets/") != std::string::npos; },
                status_answer(503, "ServiceUnavailable", "etcd is unhappy"), 5);  // every attempt of one apply
  EXPECT_THROW(runtime->apply(changed), Error);
  EXPECT_FALSE(ready(*runtime, "orders"));  // what serves is the old spec
  // Not after a restart either.
  runtime.reset();
  runtime = make_runtime();
  EXPECT_TRUE(eventually([&] { return status_of(*runtime, "orders").has_value(); }, std::chrono::seconds(10)));
  roll_out("orders", 1, 1);
  EXPECT_FALSE(ready(*runtime, "orders"));

  // Applied whole: the replicas roll (users.xml reaches a running pod only a
  // minute later), and READY waits for that.
  api.clear_requests();
  runtime->apply(changed);
  EXPECT_EQ((*api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}))["metadata"]["generation"], before + 1);
  EXPECT_FALSE(ready(*runtime, "orders"));
  EXPECT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 1); }, std::chrono::seconds(10)));
}

TEST_F(KubernetesRuntimeTest, AnAllowlistChangeTouchesTheEndpointAndItsPolicyOnly) {
  auto runtime = make_runtime(/*quiet=*/true);
  runtime->apply(spec("orders", 1, 1));
  std::map<std::string, json> first;
  for (const auto& body : applied_bodies(api.requests())) first[key_of(body)] = body;
  api.clear_requests();

  ServiceSpec changed = spec("orders", 1, 1);
  changed.allowed_ips = {"10.20.0.0/16", "198.51.100.0/24"};
  runtime->apply(changed);
  std::set<std::string> differ;
  for (const auto& body : applied_bodies(api.requests()))
    if (first.at(key_of(body)) != body) differ.insert(key_of(body));
  EXPECT_EQ(differ, (std::set<std::string>{"ConfigMap/orders-endpoint", "Deployment/orders-endpoint",
                                           "NetworkPolicy/orders-endpoint", "Service/orders-endpoint"}));
  auto service = *api.object({"v1", "Service", kNamespace, "orders-endpoint"});
  EXPECT_EQ(service["spec"]["loadBalancerSourceRanges"], json::array({"10.20.0.0/16", "198.51.100.0/24"}));
  auto policy = *api.object({"networking.k8s.io/v1", "NetworkPolicy", kNamespace, "orders-endpoint"});
  EXPECT_NE(policy["spec"]["ingress"].dump().find("198.51.100.0/24"), std::string::npos);
  for (const auto& r : api.requests()) EXPECT_NE(r.method, "DELETE") << r.target;
  expect_applies_well_formed();
}

TEST_F(KubernetesRuntimeTest, DeleteRemovesEveryObjectOfTheServiceEndpointFirstAndTheEnsembleWithTheLast) {
  auto runtime = make_runtime(/*quiet=*/true);
  runtime->apply(spec("orders", 1, 2));
  runtime->apply(spec("events", 1, 2));
  // The volumes the StatefulSets made (the fake runs no controller).
  for (const std::string pvc : {"data-orders-s1-0", "data-orders-s1-1", "data-byoc-zookeeper-0"}) {
    json set = *api.object({"apps/v1", "StatefulSet", kNamespace,
                            pvc.find("zookeeper") != std::string::npos ? "byoc-zookeeper" : "orders-s1"});
    api.put({{"apiVersion", "v1"},
             {"kind", "PersistentVolumeClaim"},
             {"metadata", {{"name", pvc}, {"namespace", kNamespace}, {"labels", set["spec"]["template"]["metadata"]["labels"]}}},
             {"spec", {{"accessModes", json::array({"ReadWriteOnce"})},
                       {"resources", {{"requests", {{"storage", "100Gi"}}}}}}}});
  }
  const auto before = rendered({spec("orders", 1, 2), spec("events", 1, 2)});
  api.clear_requests();

  runtime->remove("orders");
  std::vector<std::string> deleted;
  for (const auto& r : api.requests())
    if (r.method == "DELETE") deleted.push_back(addressed(r).substr(7));
  const std::string ns = "/namespaces/byoc-services/";
  ASSERT_FALSE(deleted.empty());
  EXPECT_EQ(deleted.front(), "/apis/apps/v1" + ns + "deployments/orders-endpoint");  // clients go first
  std::set<std::string> gone(deleted.begin(), deleted.end());
  for (const auto& o : before)
    if (o["metadata"]["labels"].value("byoc.io/service", "") == "orders") {
      EXPECT_TRUE(gone.count(kube::object_path(kube::ref_of(o)))) << key_of(o);
    }
  EXPECT_TRUE(gone.count("/api/v1" + ns + "secrets/orders-credentials"));
  EXPECT_TRUE(gone.count("/api/v1" + ns + "secrets/orders-tls"));
  EXPECT_TRUE(gone.count("/api/v1" + ns + "persistentvolumeclaims/data-orders-s1-0"));
  for (const auto& path : deleted) EXPECT_EQ(path.find("events"), std::string::npos) << path;
  EXPECT_FALSE(gone.count("/api/v1" + ns + "persistentvolumeclaims/data-byoc-zookeeper-0"));  // events uses it
  // The ensemble stays for events; a Job deletes orders' chroot.
  // The chroot of this incarnation of orders: a new orders gets another.
  const std::string incarnation = files::read(root.path() / "services/events/incarnation").substr(0, 8);
  auto jobs = api.objects("Job", kNamespace);
  ASSERT_EQ(jobs.size(), 1u);
  const json& job = jobs[0];
  const std::string chroot = job["spec"]["template"]["spec"]["containers"][0]["command"].back();
  EXPECT_EQ(chroot.rfind("/byoc/orders-", 0), 0u) << chroot;
  EXPECT_EQ(chroot.size(), std::string("/byoc/orders-").size() + 8) << chroot;
  EXPECT_EQ(job["metadata"]["name"], "orders-" + chroot.substr(13) + "-zk-cleanup");
  EXPECT_EQ(incarnation.size(), 8u);
  EXPECT_NE(chroot, "/byoc/orders-" + incarnation);  // each service its own
  EXPECT_TRUE(api.object({"apps/v1", "StatefulSet", kNamespace, "byoc-zookeeper"}).has_value());
  EXPECT_FALSE(std::filesystem::exists(root.path() / "services/orders"));
  for (const auto& r : api.requests())
    if (r.method == "DELETE") {
      EXPECT_EQ(r.target.substr(r.target.find('?')), "?propagationPolicy=Background") << r.target;
    }
  expect_applies_well_formed();

  // The last replicated service takes the ensemble and its volumes along.
  api.clear_requests();
  runtime->remove("events");
  EXPECT_FALSE(api.object({"apps/v1", "StatefulSet", kNamespace, "byoc-zookeeper"}).has_value());
  EXPECT_FALSE(api.object({"v1", "PersistentVolumeClaim", kNamespace, "data-byoc-zookeeper-0"}).has_value());
  EXPECT_EQ(api.objects("Job", kNamespace).size(), 1u);  // orders' only: no ensemble left for events' chroot
  EXPECT_TRUE(api.object({"networking.k8s.io/v1", "NetworkPolicy", kNamespace, "byoc-default-deny"}).has_value());
  EXPECT_TRUE(api.objects("StatefulSet", kNamespace).empty());
  EXPECT_TRUE(api.objects("Secret", kNamespace).empty());

  // Removing what is gone, or was never there, is a no-op.
  api.clear_requests();
  runtime->remove("events");
  runtime->remove("Not A Name");
  for (const auto& r : api.requests()) EXPECT_NE(r.method, "DELETE") << r.target;
}

TEST_F(KubernetesRuntimeTest, AConflictOnApplyIsRetriedAndTheApplyCompletes) {
  auto runtime = make_runtime(/*quiet=*/true);
  api.fail_next([](const RecordedRequest& r) { return r.method == "PATCH" && r.target.find("/statefulsets/") != std::string::npos; },
                status_answer(409, "Conflict", "Operation cannot be fulfilled on statefulsets.apps \"orders-s1\": "
                                               "the object has been modified; please apply your changes to the latest version"));
  auto status = runtime->apply(spec("orders", 1, 1));
  EXPECT_EQ(status.state, ServiceState::kProvisioning);
  int patches = 0;
  for (const auto& r : api.requests())
    if (r.method == "PATCH" && r.target.find("/statefulsets/orders-s1?") != std::string::npos) ++patches;
  EXPECT_EQ(patches, 2);
  EXPECT_EQ(api.sleeps().size(), 1u);  // one backoff, recorded, not slept
  EXPECT_TRUE(api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}).has_value());
}

TEST_F(KubernetesRuntimeTest, AWatchEndingInGoneIsFollowedByAListAndNothingIsMissed) {
  auto runtime = make_runtime();
  runtime->apply(spec("orders", 1, 1));
  ASSERT_TRUE(eventually([&] { return status_of(*runtime, "orders").has_value(); }, std::chrono::seconds(10)));
  // The next watch of each kind ends with 410, as an ERROR event in one
  // round and as the answer's status in the other.
  const json gone = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
                     {"message", "too old resource version"}, {"reason", "Expired"}, {"code", 410}};
  for (bool as_event : {true, false}) {
    const CannedResponse answer =
        as_event ? CannedResponse{200, {{"Content-Type", "application/json"}},
                                  json({{"type", "ERROR"}, {"object", gone}}).dump() + "\n"}
                 : status_answer(410, "Expired", "too old resource version");
    const size_t from = api.requests().size();
    for (const char* plural : {"/statefulsets?", "/deployments?", "/pods?", "/services?"})
      api.fail_next([plural](const RecordedRequest& r) {
        return r.target.find(plural) != std::string::npos && r.target.find("watch=1") != std::string::npos;
      }, answer);
    const std::string host = as_event ? "lb-one.example" : "lb-two.example";
    roll_out("orders", 1, 1, host);
    // Seen after each informer's watch met the 410 and it listed again.
    auto relisted = [&] {
      std::set<std::string> lists;
      auto requests = api.requests();
      for (size_t i = from; i < requests.size(); ++i)
        if (requests[i].target.find("?limit=500") != std::string::npos) lists.insert(addressed(requests[i]));
      return lists;
    };
    ASSERT_TRUE(eventually([&] {
      auto s = status_of(*runtime, "orders");
      return s && s->endpoint == "https://" + host + ":443" && s->replicas[0].state == ReplicaState::kRunning &&
             relisted().size() == 4;
    }, std::chrono::seconds(10)));
    EXPECT_EQ(relisted(), (std::set<std::string>{"GET /api/v1/namespaces/byoc-services/pods",
                                                 "GET /api/v1/namespaces/byoc-services/services",
                                                 "GET /apis/apps/v1/namespaces/byoc-services/deployments",
                                                 "GET /apis/apps/v1/namespaces/byoc-services/statefulsets"}));
  }
}

TEST_F(KubernetesRuntimeTest, ARestartedRuntimeKnowsItsServicesFromDiskAndTheClusterAndKeepsThemRunning) {
  {
    auto runtime = make_runtime();
    runtime->apply(spec("orders", 1, 1));
    ASSERT_TRUE(eventually([&] { return settle(*runtime, "orders", 1, 1); }, std::chrono::seconds(10)));
    runtime->stop_all();
  }
  // Stopping touched nothing in the cluster.
  EXPECT_TRUE(api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"}).has_value());
  // An object of a service this agent has no spec of (its disk was lost).
  json stray = *api.object({"apps/v1", "StatefulSet", kNamespace, "orders-s1"});
  stray["metadata"]["name"] = "lost-s1";
  stray["metadata"]["labels"]["byoc.io/service"] = "lost";
  stray["metadata"].erase("resourceVersion");
  stray["metadata"].erase("uid");
  api.put(stray);

  auto runtime = make_runtime();
  EXPECT_TRUE(eventually([&] { return runtime->services() == std::vector<std::string>{"lost", "orders"}; },
                         std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return ready(*runtime, "orders"); }, std::chrono::seconds(10)));
  EXPECT_EQ(status_of(*runtime, "lost")->reason, "incomplete");
  runtime->remove("lost");
  EXPECT_FALSE(api.object({"apps/v1", "StatefulSet", kNamespace, "lost-s1"}).has_value());
}

TEST_F(KubernetesRuntimeTest, TheSupportGatewayAddsItsSecretAndCaAndGoesWithIt) {
  auto runtime = make_runtime(/*quiet=*/true);
  runtime->apply(spec("orders", 1, 1));
  agent::SupportGateway gateway;
  gateway.enabled = true;
  gateway.ca_pem = ca.cert_pem;
  gateway.crl_pem = "-----BEGIN X509 CRL-----\nMIIB\n-----END X509 CRL-----\n";
  gateway.check_key = std::string(64, 'a');
  runtime->set_support_gateway(gateway);
  auto secret = api.object({"v1", "Secret", kNamespace, rk::kGatewayCheckSecret});
  ASSERT_TRUE(secret.has_value());
  EXPECT_EQ(*crypto::base64_decode((*secret)["data"][rk::kGatewayCheckKey].get<std::string>()), gateway.check_key);
  EXPECT_TRUE(api.object({"v1", "ConfigMap", kNamespace, "byoc-support-ca"}).has_value());
  const size_t requests = api.requests().size();
  runtime->set_support_gateway(gateway);  // unchanged: nothing to do
  EXPECT_EQ(api.requests().size(), requests);
  expect_applies_well_formed();

  runtime->set_support_gateway(agent::SupportGateway{});
  EXPECT_FALSE(api.object({"v1", "Secret", kNamespace, rk::kGatewayCheckSecret}).has_value());
  EXPECT_FALSE(api.object({"v1", "ConfigMap", kNamespace, "byoc-support-ca"}).has_value());
}

TEST(KubernetesRuntimeOptions, SettingsAreCheckedAndAKubeconfigIsRead) {
  SystemClock clock;
  EXPECT_EQ(error_code([&] { agent::kubernetes_runtime_options({{"bogus", "1"}}, &clock); }), "invalid_runtime_option");
  EXPECT_EQ(error_code([&] { agent::kubernetes_runtime_options({{"namespace", ""}}, &clock); }), "invalid_runtime_option");
  EXPECT_EQ(error_code([&] { agent::kubernetes_runtime_options({{"context", "x"}}, &clock); }), "invalid_runtime_option");
  // Values the renderer would refuse at every apply are refused at once, before any file is read.
  EXPECT_NE(error_message([&] { agent::check_kubernetes_runtime_settings({{"namespace", "Not_A_Label"}}); })
                .find("--runtime-option namespace:"),
            std::string::npos);
  EXPECT_EQ(error_code([&] { agent::check_kubernetes_runtime_settings({{"storage-class", "a b"}}); }),
            "invalid_runtime_option");
  EXPECT_EQ(error_code([&] { agent::check_kubernetes_runtime_settings({{"namespace", "byoc-system"}}); }),
            "invalid_runtime_option");  // the agent's own: it would deny the agent's ingress
  EXPECT_NO_THROW(agent::check_kubernetes_runtime_settings({{"kubeconfig", "/nonexistent"}, {"registry", "r.example/ch"}}));
  // Outside a cluster, without a kubeconfig.
  if (!std::getenv("KUBERNETES_SERVICE_HOST")) {
    EXPECT_EQ(error_code([&] { agent::kubernetes_runtime_options({}, &clock); }), "kube_not_in_cluster");
  }

  FakeKubeApi api;
  TempDir dir;
  const auto file = dir.path() / "kubeconfig";
  json config = {{"apiVersion", "v1"},
                 {"kind", "Config"},
                 {"current-context", "byoc"},
                 {"clusters", json::array({{{"name", "c"},
                                            {"cluster",
                                             {{"server", api.url()},
                                              {"certificate-authority-data", crypto::base64(api.ca_pem())}}}}})},
                 {"users", json::array({{{"name", "u"}, {"user", {{"token", FakeKubeApi::kToken}}}}})},
                 {"contexts", json::array({{{"name", "byoc"}, {"context", {{"cluster", "c"}, {"user", "u"}}}}})}};
  files::write_atomic(file, config.dump(), 0600);  // JSON is YAML
  auto options = agent::kubernetes_runtime_options(
      {{"kubeconfig", file.string()}, {"namespace", "analytics"}, {"clickhouse-volume-gib", "500"}}, &clock);
  EXPECT_EQ(options.client.server, api.url());
  EXPECT_EQ(options.client.field_manager, "byoc");
  EXPECT_EQ(options.render.namespace_name, "analytics");
  EXPECT_EQ(options.render.clickhouse_volume_gib, 500);
  EXPECT_EQ(error_code([&] { agent::kubernetes_runtime_options({{"clickhouse-volume-gib", "lots"}}, &clock); }),
            "invalid_runtime_option");
  kube::Client client(options.client);
  EXPECT_FALSE(client.get({"v1", "Secret", "analytics", "none"}).has_value());  // reached, authenticated
}

}  // namespace
}  // namespace byoc::testing
