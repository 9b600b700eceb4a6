// The Kubernetes runtime's coordinator: apply, remove, observe and the
// informers (kubernetes_runtime.h says what each promises).
#include "agent/runtimes/kubernetes/kubernetes_runtime.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/runtimes/kubernetes/endpoint_certificate.h"
#include "agent/runtimes/kubernetes/service_status.h"
#include "base/error.h"
#include "base/files.h"
#include "kube/informer.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace {

namespace fs = std::filesystem;
namespace rk = render::kubernetes;
using nlohmann::json;

constexpr const char* kServiceLabel = "byoc.io/service";
constexpr const char* kSpecFile = "spec.json";

struct Kind {
  const char* api_version;
  const char* kind;
};

// What apply() prunes, in the order remove() deletes: the endpoint first
// (no client is sent to replicas on their way out), then the replicas,
// then what they read. Claims and Jobs only go with remove(): a claim is
// data, kept while its StatefulSet may come back to it.
constexpr Kind kDeployment{"apps/v1", "Deployment"};
constexpr Kind kService{"v1", "Service"};
constexpr Kind kStatefulSet{"apps/v1", "StatefulSet"};
constexpr Kind kPrunedKinds[] = {kDeployment,
                                 kService,
                                 kStatefulSet,
                                 {"policy/v1", "PodDisruptionBudget"},
                                 {"networking.k8s.io/v1", "NetworkPolicy"},
                                 {"v1", "ConfigMap"},
                                 {"v1", "Secret"}};
constexpr Kind kJob{"batch/v1", "Job"};
constexpr Kind kClaim{"v1", "PersistentVolumeClaim"};

const json& metadata(const json& object) {
  static const json kEmpty = json::object();
  return object.contains("metadata") && object["metadata"].is_object() ? object["metadata"] : kEmpty;
}

std::string name_of(const json& object) { return metadata(object).value("name", ""); }

std::string service_label(const json& object) {
  const json& meta = metadata(object);
  if (!meta.contains("labels") || !meta["labels"].is_object()) return "";
  return meta["labels"].value(kServiceLabel, "");
}

std::string key_of(const json& object) {
  return object.value("kind", "") + "/" + name_of(object);
}

class KubernetesRuntime final : public Runtime {
 public:
  explicit KubernetesRuntime(const KubernetesRuntimeOptions& options)
      : o_(options), client_(options.client), supervise_client_(options.client) {
    if (!o_.clock) throw Error::Internal("kubernetes runtime: no clock");
    files::ensure_dir(o_.root, 0700);
    load_specs();
    selector_ = "app.kubernetes.io/managed-by=byoc,byoc.io/environment=" + o_.environment_id;
    for (Kind k : {kStatefulSet, kDeployment, Kind{"v1", "Pod"}, kService}) {
      kube::InformerOptions io;
      io.api_version = k.api_version;
      io.kind = k.kind;
      io.namespace_name = o_.render.namespace_name;
      io.label_selector = selector_;
      io.watch_timeout = o_.watch_timeout;
      informers_.push_back(std::make_unique<kube::Informer>(io));
    }
    for (auto& informer : informers_) threads_.emplace_back([this, i = informer.get()] { run_informer(*i); });
  }

  ~KubernetesRuntime() override { stop_informers(); }

  ServiceStatus apply(const ServiceSpec& spec) override {
    std::lock_guard work(work_mu_);
    return apply_locked(spec, client_);
  }

  void set_support_gateway(const SupportGateway& gateway) override {
    std::lock_guard work(work_mu_);
    std::vector<ServiceSpec> pending;
    {
      std::lock_guard lock(mu_);
      if (!(gateway == gateway_)) {
        gateway_ = gateway;
        for (const auto& [name, spec] : specs_) gateway_pending_.insert(name);
      }
      for (const auto& name : gateway_pending_)
        if (auto it = specs_.find(name); it != specs_.end()) pending.push_back(it->second);
      gateway_pending_.clear();
    }
    for (const auto& spec : pending) {
      try {
        apply_locked(spec, client_);
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: cannot bring {} to the support gateway: {}", spec.name, e.what());
        std::lock_guard lock(mu_);
        gateway_pending_.insert(spec.name);
      }
    }
  }

  void remove(const std::string& service) override {
    std::lock_guard work(work_mu_);
    // Nothing of ours can have a name that is no label value.
    if (!kube::is_dns1123_label(service)) return;
    std::optional<ServiceSpec> removed;
    {
      std::lock_guard lock(mu_);
      if (auto it = specs_.find(service); it != specs_.end()) removed = it->second;
    }
    // Every object of the service, the endpoint first; the spec stays on
    // disk until they are all asked to go, so a crash repeats this.
    const std::string selector = selector_ + "," + kServiceLabel + "=" + service;
    std::vector<Kind> kinds(std::begin(kPrunedKinds), std::end(kPrunedKinds));
    kinds.push_back(kJob);
    kinds.push_back(kClaim);
    for (Kind k : kinds)
      for (const auto& object : client_.list(k.api_version, k.kind, o_.render.namespace_name, selector))
        client_.remove(kube::ref_of(object));
    {
      std::lock_guard lock(mu_);
      specs_.erase(service);
      gateway_pending_.erase(service);
      for (auto it = workload_services_.begin(); it != workload_services_.end();) {
        if (it->second != service) {
          ++it;
          continue;
        }
        generations_.erase(it->first);
        it = workload_services_.erase(it);
      }
      certificate_revisions_.erase(service);
      certificate_names_.erase(service);
    }
    // The environment without it: ZooKeeper goes with the last replicated
    // service, or deletes this one's chroot if it stays.
    model::DesiredState state = desired_state();
    auto rendered = rk::environment_objects(state, render_options(state));
    for (const auto& object : rendered) apply_object(object, client_);
    prune(client_, "", rendered, state);
    if (removed && rk::needs_zookeeper(*removed) && rk::needs_zookeeper(state))
      client_.apply(rk::zookeeper_cleanup_job(state, service, render_options(state)));
    std::error_code ec;
    fs::remove_all(o_.root / service, ec);
    if (ec) throw Error::Internal("kubernetes runtime: cannot delete " + (o_.root / service).string() + ": " + ec.message());
    spdlog::info("kubernetes runtime: removed {}", service);
  }

  std::vector<ServiceStatus> observe() override {
    Snapshot seen = snapshot();
    std::map<std::string, ServiceSpec> specs;
    std::map<std::string, int64_t> generations;
    {
      std::lock_guard lock(mu_);
      specs = specs_;
      generations = generations_;
    }
    std::vector<ServiceStatus> out;
    for (const auto& name : names(seen, specs)) {
      auto spec = specs.find(name);
      if (spec == specs.end()) {  // in the cluster, not on disk: the agent removes it
        ServiceStatus status;
        status.name = name;
        status.reason = "incomplete";
        out.push_back(status);
        continue;
      }
      out.push_back(kube_runtime::service_status(spec->second, seen.of(name, generations)));
    }
    return out;
  }

  std::vector<std::string> services() override {
    std::map<std::string, ServiceSpec> specs;
    {
      std::lock_guard lock(mu_);
      specs = specs_;
    }
    auto all = names(snapshot(), specs);
    return {all.begin(), all.end()};
  }

  // The kubelet restarts what dies and the controllers roll out what was
  // applied; what is left is an endpoint certificate that must name a new
  // load-balancer address or is near its end. Rare (once per load balancer,
  // once a year): the re-apply it takes then is the only slow call.
  void supervise() override {
    if (o_.clock->monotonic_time() < next_certificate_check_) return;
    next_certificate_check_ = o_.clock->monotonic_time() + std::chrono::seconds(10);
    std::vector<ServiceSpec> specs;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, spec] : specs_) {
        auto endpoint = informers_[3]->object(rk::endpoint_service_name(name));
        auto known = certificate_names_.find(name);
        if (known == certificate_names_.end()) continue;  // not applied by this process yet
        auto wanted = endpoint_names_of(name, endpoint ? &*endpoint : nullptr);
        if (!(wanted == known->second.names) || o_.clock->unix_seconds() >= known->second.renew_at) specs.push_back(spec);
      }
    }
    if (specs.empty()) return;
    std::unique_lock work(work_mu_, std::try_to_lock);
    if (!work.owns_lock()) return;  // apply() is at work: next time
    for (const auto& spec : specs) {
      try {
        apply_locked(spec, supervise_client_);
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: cannot renew the endpoint certificate of {}: {}", spec.name, e.what());
      }
    }
  }

  void stop_all() override { stop_informers(); }

 private:
  struct Snapshot {
    std::vector<json> stateful_sets, deployments, pods, services;

    kube_runtime::ObservedService of(const std::string& service, const std::map<std::string, int64_t>& generations) const {
      kube_runtime::ObservedService seen;
      for (const auto& o : stateful_sets)
        if (service_label(o) == service) seen.stateful_sets[name_of(o)] = &o;
      for (const auto& o : pods)
        if (service_label(o) == service) seen.pods[name_of(o)] = &o;
      const std::string endpoint = rk::endpoint_service_name(service);
      for (const auto& o : deployments)
        if (name_of(o) == endpoint) seen.endpoint_deployment = &o;
      for (const auto& o : services)
        if (name_of(o) == endpoint) seen.endpoint_service = &o;
      for (const auto& [name, generation] : generations) seen.applied_generations[name] = generation;
      return seen;
    }
  };

  struct CertificateState {
    kube_runtime::EndpointNames names;
    int64_t renew_at = 0;  // unix seconds
  };

  Snapshot snapshot() const {
    return {informers_[0]->objects(), informers_[1]->objects(), informers_[2]->objects(), informers_[3]->objects()};
  }

  static std::set<std::string> names(const Snapshot& seen, const std::map<std::string, ServiceSpec>& specs) {
    std::set<std::string> out;
    for (const auto& [name, spec] : specs) out.insert(name);
    for (const auto* list : {&seen.stateful_sets, &seen.deployments})
      for (const auto& o : *list)
        if (std::string s = service_label(o); !s.empty()) out.insert(s);
    return out;
  }

  void run_informer(kube::Informer& informer) {
    std::unique_ptr<kube::Client> client;
    while (!stop_) {
      const auto started = o_.clock->monotonic_time();
      // A list is followed by its watch at once; a watch that ended is
      // resumed after a pause (a server may end watches early).
      const bool listing = informer.resource_version().empty();
      try {
        if (!client) client = std::make_unique<kube::Client>(o_.client);
        informer.sync(*client, &stop_);
      } catch (const Error& e) {
        if (stop_) break;
        spdlog::warn("kubernetes runtime: watching {}: {}", informer.options().kind, e.what());
        client.reset();  // a fresh connection next time
        o_.clock->sleep_for(o_.failure_pause, &stop_);
        continue;
      }
      if (listing) continue;
      const auto spent = o_.clock->monotonic_time() - started;
      if (spent < o_.watch_pause) o_.clock->sleep_for(o_.watch_pause - spent, &stop_);
    }
  }

  void stop_informers() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable()) t.join();
    threads_.clear();
  }

  void load_specs() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(o_.root, ec)) {
      auto text = files::read_if_exists(entry.path() / kSpecFile);
      if (!text) continue;
      try {
        ServiceSpec spec = model::parse_desired_service(json::parse(*text), (entry.path() / kSpecFile).string());
        specs_[spec.name] = spec;
      } catch (const std::exception& e) {
        spdlog::warn("kubernetes runtime: ignoring {}: {}", (entry.path() / kSpecFile).string(), e.what());
      }
    }
  }

  model::DesiredState desired_state() const {
    model::DesiredState state;
    state.environment_id = o_.environment_id;
    std::lock_guard lock(mu_);
    for (const auto& [name, spec] : specs_) state.services.push_back(spec);
    return state;
  }

  rk::KubernetesOptions render_options(const model::DesiredState& state) const {
    rk::KubernetesOptions options = o_.render;
    std::lock_guard lock(mu_);
    options.support_gateway.enabled = gateway_.enabled;
    options.support_gateway.ca_pem = gateway_.ca_pem;
    options.support_gateway.crl_pem = gateway_.crl_pem;
    for (const auto& s : state.services)
      if (auto it = certificate_revisions_.find(s.name); it != certificate_revisions_.end())
        options.certificate_revisions[s.name] = it->second;
    return options;
  }

  kube_runtime::EndpointNames endpoint_names_of(const std::string& service, const json* endpoint) const {
    return kube_runtime::endpoint_names(rk::endpoint_service_name(service), o_.render.namespace_name,
                                        o_.render.cluster_domain, endpoint);
  }

  static ServiceStatus refused(const std::string& name, const char* reason) {
    ServiceStatus status;
    status.name = name;
    status.state = ServiceState::kFailed;
    status.reason = reason;
    return status;
  }

  ServiceStatus apply_locked(const ServiceSpec& spec, kube::Client& client) {
    std::optional<ServiceSpec> before;
    model::DesiredState state = desired_state();
    for (auto& s : state.services)
      if (s.name == spec.name) {
        before = s;
        s = spec;
      }
    if (before && before->shards != spec.shards) return refused(spec.name, "unsupported_topology");
    if (!before) state.services.push_back(spec);
    try {
      rk::check_desired_state(state, render_options(state));
    } catch (const Error& e) {
      spdlog::warn("kubernetes runtime: refusing {}: {}", spec.name, e.what());
      return refused(spec.name, e.field().find("clickhouse_version") != std::string::npos ? "unsupported_version"
                                                                                          : "unsupported_topology");
    }
    // The spec first: a crash from here on is repaired by the same apply.
    files::ensure_dir(o_.root / spec.name, 0700);
    files::write_atomic(o_.root / spec.name / kSpecFile, model::to_json(spec).dump(), 0600);
    {
      std::lock_guard lock(mu_);
      specs_[spec.name] = spec;
    }
    // A chroot being deleted for an earlier service of this name must not
    // take the new one's with it.
    if (!before && rk::needs_zookeeper(spec))
      client.remove({kJob.api_version, kJob.kind, o_.render.namespace_name, rk::zookeeper_cleanup_job_name(spec.name)},
                    kube::Propagation::kForeground);
    make_secrets(spec, state, client);
    const rk::KubernetesOptions options = render_options(state);
    std::vector<json> ours;
    for (auto& object : rk::render_kubernetes(state, options)) {
      std::string owner = service_label(object);
      if (owner.empty() || owner == spec.name) ours.push_back(std::move(object));
    }
    for (const auto& object : ours) apply_object(object, client);
    prune(client, spec.name, ours, state);
    prune(client, "", ours, state);
    Snapshot seen = snapshot();
    std::map<std::string, int64_t> generations;
    {
      std::lock_guard lock(mu_);
      generations = generations_;
    }
    return kube_runtime::service_status(spec, seen.of(spec.name, generations));
  }

  // Applies one object; a workload's generation is what observe() waits for.
  void apply_object(const json& object, kube::Client& client) {
    json live = client.apply(object);
    const std::string kind = object.value("kind", "");
    if (kind != "StatefulSet" && kind != "Deployment") return;
    const json& meta = metadata(live);
    int64_t generation = meta.contains("generation") && meta["generation"].is_number_integer()
                             ? meta["generation"].get<int64_t>()
                             : 0;
    std::lock_guard lock(mu_);
    generations_[name_of(object)] = generation;
    workload_services_[name_of(object)] = service_label(object);
  }

  // The Secrets the renderer refers to: internal passwords (made once,
  // kept), the endpoint's certificate, the gateway check's key.
  void make_secrets(const ServiceSpec& spec, const model::DesiredState& state, kube::Client& client) {
    const rk::KubernetesOptions options = render_options(state);
    const std::string& ns = o_.render.namespace_name;
    auto credentials = client.get({"v1", "Secret", ns, rk::credentials_secret_name(spec.name)});
    auto has = [](const std::optional<json>& secret, const char* key) {
      return secret && secret->contains("data") && (*secret)["data"].is_object() && (*secret)["data"].contains(key);
    };
    if (!has(credentials, rk::kClusterPasswordKey) || !has(credentials, rk::kSupportPasswordKey)) {
      client.apply(rk::runtime_secret(state, options, spec.name, rk::credentials_secret_name(spec.name), "Opaque",
                                      {{rk::kClusterPasswordKey, crypto::hex(crypto::random_bytes(24))},
                                       {rk::kSupportPasswordKey, crypto::hex(crypto::random_bytes(24))}}));
    }
    auto tls = client.get({"v1", "Secret", ns, rk::tls_secret_name(spec.name)});
    auto endpoint = informers_[3]->object(rk::endpoint_service_name(spec.name));
    const kube_runtime::EndpointNames names = endpoint_names_of(spec.name, endpoint ? &*endpoint : nullptr);
    if (!kube_runtime::certificate_usable(tls ? &*tls : nullptr, names, o_.environment_ca.cert_pem, *o_.clock)) {
      crypto::KeyedCertificate issued = kube_runtime::issue_endpoint_certificate(o_.environment_ca, names, *o_.clock);
      json secret = rk::runtime_secret(state, options, spec.name, rk::tls_secret_name(spec.name), "kubernetes.io/tls",
                                       {{"tls.crt", issued.cert_pem}, {"tls.key", issued.key_pem}});
      secret["metadata"]["annotations"] = {{kube_runtime::kCertificateNamesAnnotation, names.joined()}};
      tls = client.apply(secret);
      spdlog::info("kubernetes runtime: issued the endpoint certificate of {} for {}", spec.name, names.joined());
    }
    const std::string revision = kube_runtime::certificate_revision(tls ? &*tls : nullptr);
    const int64_t renew_at = kube_runtime::certificate_renew_at(tls ? &*tls : nullptr);
    bool gateway;
    std::string check_key;
    {
      std::lock_guard lock(mu_);
      certificate_revisions_[spec.name] = revision;
      certificate_names_[spec.name] = {names, renew_at};
      gateway = gateway_.enabled;
      check_key = gateway_.check_key;
    }
    if (gateway)
      client.apply(rk::runtime_secret(state, options, "", rk::kGatewayCheckSecret, "Opaque",
                                      {{rk::kGatewayCheckKey, check_key}}));
  }

  // Deletes what `owner`'s objects ("" : the environment's) no longer hold:
  // labelled as ours, of this environment and owner, and not in `rendered`.
  void prune(kube::Client& client, const std::string& owner, const std::vector<json>& rendered,
             const model::DesiredState& state) {
    std::set<std::string> keep;
    for (const auto& o : rendered) keep.insert(key_of(o));
    if (owner.empty()) {
      bool gateway;
      {
        std::lock_guard lock(mu_);
        gateway = gateway_.enabled;
      }
      if (gateway) keep.insert(std::string("Secret/") + rk::kGatewayCheckSecret);
    } else {
      keep.insert("Secret/" + rk::credentials_secret_name(owner));
      keep.insert("Secret/" + rk::tls_secret_name(owner));
    }
    const std::string selector = owner.empty() ? selector_ : selector_ + "," + kServiceLabel + "=" + owner;
    bool zookeeper_pruned = false;
    for (Kind k : kPrunedKinds) {
      for (const auto& object : client.list(k.api_version, k.kind, o_.render.namespace_name, selector)) {
        if (service_label(object) != owner || keep.count(key_of(object))) continue;
        spdlog::info("kubernetes runtime: pruning {} {}", k.kind, name_of(object));
        client.remove(kube::ref_of(object));
        zookeeper_pruned = zookeeper_pruned || (std::string(k.kind) == "StatefulSet" && owner.empty());
      }
    }
    // An ensemble no service uses any more goes with its data.
    if (zookeeper_pruned && !rk::needs_zookeeper(state))
      for (const auto& claim : client.list(kClaim.api_version, kClaim.kind, o_.render.namespace_name, selector))
        if (service_label(claim).empty()) client.remove(kube::ref_of(claim));
  }

  const KubernetesRuntimeOptions o_;
  kube::Client client_;            // apply(), remove(), set_support_gateway(), stop_all()
  kube::Client supervise_client_;  // supervise()
  std::string selector_;
  std::mutex work_mu_;             // one change at a time, whichever thread
  mutable std::mutex mu_;          // everything below
  std::map<std::string, ServiceSpec> specs_;
  SupportGateway gateway_;
  std::set<std::string> gateway_pending_;
  std::map<std::string, int64_t> generations_;  // workload → generation of the last apply
  std::map<std::string, std::string> workload_services_;
  std::map<std::string, std::string> certificate_revisions_;
  std::map<std::string, CertificateState> certificate_names_;
  MonotonicTime next_certificate_check_{};
  std::vector<std::unique_ptr<kube::Informer>> informers_;  // StatefulSets, Deployments, Pods, Services
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace

std::unique_ptr<Runtime> make_kubernetes_runtime(const KubernetesRuntimeOptions& options) {
  return std::make_unique<KubernetesRuntime>(options);
}

}  // namespace byoc::agent
