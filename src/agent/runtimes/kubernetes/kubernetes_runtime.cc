// The Kubernetes runtime's coordinator: apply, remove, observe and the
// informers (kubernetes_runtime.h says what each promises).
#include "agent/runtimes/kubernetes/kubernetes_runtime.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/runtimes/kubernetes/endpoint_certificate.h"
#include "agent/runtimes/kubernetes/replica_changes.h"
#include "agent/runtimes/kubernetes/replica_moves.h"
#include "agent/runtimes/kubernetes/service_records.h"
#include "agent/runtimes/kubernetes/service_status.h"
#include "agent/runtimes/kubernetes/version_rollout.h"
#include "base/error.h"
#include "base/files.h"
#include "kube/informer.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace {

namespace rk = render::kubernetes;
using kube_runtime::ServiceRecord;
using kube_runtime::VersionRollout;
using nlohmann::json;

constexpr const char* kServiceLabel = "byoc.io/service";

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

std::string key_of(const json& object) { return object.value("kind", "") + "/" + name_of(object); }

ServiceStatus refused(const std::string& name, const char* reason) {
  ServiceStatus status;
  status.name = name;
  status.state = ServiceState::kFailed;
  status.reason = reason;
  return status;
}

class KubernetesRuntime final : public Runtime {
 public:
  explicit KubernetesRuntime(const KubernetesRuntimeOptions& options)
      : o_(with_cancel(options, &stop_)), client_(options.client) {
    if (!o_.clock) throw Error::Internal("kubernetes runtime: no clock");
    files::ensure_dir(o_.root, 0700);
    records_ = kube_runtime::load_service_records(o_.root);
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
    return apply_locked(spec);
  }

  // Also where the renewals supervise() found due are made: this runs on the
  // applying thread with every report, and an apply takes many calls.
  void set_support_gateway(const SupportGateway& gateway) override {
    std::lock_guard work(work_mu_);
    std::vector<ServiceSpec> pending;
    {
      std::lock_guard lock(mu_);
      if (!(gateway == gateway_)) {
        gateway_ = gateway;
        for (const auto& [name, record] : records_) pending_.insert(name);
      }
      for (const auto& name : pending_)
        if (auto it = records_.find(name); it != records_.end()) pending.push_back(it->second.spec);
      pending_.clear();
    }
    for (const auto& spec : pending) {
      try {
        apply_locked(spec);
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: cannot apply {} again: {}", spec.name, e.what());
        std::lock_guard lock(mu_);
        pending_.insert(spec.name);
      }
    }
    advance_rollouts();
    advance_replica_changes();
  }

  void remove(const std::string& service) override {
    std::lock_guard work(work_mu_);
    // Nothing of ours can have a name that is no label value.
    if (!kube::is_dns1123_label(service)) return;
    std::optional<ServiceRecord> removed;
    {
      std::lock_guard lock(mu_);
      if (auto it = records_.find(service); it != records_.end()) removed = it->second;
    }
    // Every object of the service, the endpoint first; the record stays on
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
      records_.erase(service);
      pending_.erase(service);
      moves_.forget(service);
      membership_stale_.erase(service);
      refused_rollouts_.erase(service);
      for (auto it = workload_services_.begin(); it != workload_services_.end();) {
        if (it->second != service) {
          ++it;
          continue;
        }
        generations_.erase(it->first);
        it = workload_services_.erase(it);
      }
    }
    // The environment without it: ZooKeeper goes with the last replicated
    // service, or deletes this one's chroot if it stays.
    model::DesiredState state = desired_state();
    rk::KubernetesOptions options = render_options(state);
    auto rendered = rk::environment_objects(state, options);
    for (const auto& object : rendered) apply_object(object);
    prune("", rendered, state);
    if (removed && rk::needs_zookeeper(removed->spec) && rk::needs_zookeeper(state)) {
      options.incarnations[service] = removed->incarnation;
      if (removed->incarnation.empty()) options.incarnations.erase(service);
      client_.apply(rk::zookeeper_cleanup_job(state, service, options));
    }
    kube_runtime::remove_service_record(o_.root, service);
    spdlog::info("kubernetes runtime: removed {}", service);
  }

  std::vector<ServiceStatus> observe() override {
    Snapshot seen = snapshot();
    std::map<std::string, ServiceRecord> records;
    std::map<std::string, int64_t> generations;
    std::map<std::string, model::ReportedRollout> refused;
    {
      std::lock_guard lock(mu_);
      records = records_;
      generations = generations_;
      refused = refused_rollouts_;
    }
    std::vector<ServiceStatus> out;
    for (const auto& name : names(seen, records)) {
      auto record = records.find(name);
      if (record == records.end()) {  // in the cluster, not on disk: the agent removes it
        ServiceStatus status;
        status.name = name;
        status.reason = "incomplete";
        out.push_back(status);
        continue;
      }
      out.push_back(status_of(record->second, seen, generations));
      if (auto r = refused.find(name); r != refused.end()) out.back().rollout = r->second;
    }
    return out;
  }

  std::vector<std::string> services() override {
    std::map<std::string, ServiceRecord> records;
    {
      std::lock_guard lock(mu_);
      records = records_;
    }
    auto all = names(snapshot(), records);
    return {all.begin(), all.end()};
  }

  // The kubelet restarts what dies and the controllers roll out what was
  // applied; what is left is an endpoint certificate that must name a new
  // load-balancer address or is near its end. Found here from the
  // informers' copies (cheap), made by the next set_support_gateway().
  void supervise() override {
    std::lock_guard lock(mu_);
    for (const auto& [name, record] : records_)
      if (!certificate_current(record)) pending_.insert(name);
  }

  void stop_all() override { stop_informers(); }

 private:
  struct Snapshot {
    std::vector<json> stateful_sets, deployments, pods, services;
  };

  static KubernetesRuntimeOptions with_cancel(KubernetesRuntimeOptions options, const std::atomic<bool>* cancel) {
    options.client.cancel = cancel;
    return options;
  }

  Snapshot snapshot() const {
    return {informers_[0]->objects(), informers_[1]->objects(), informers_[2]->objects(), informers_[3]->objects()};
  }

  static std::set<std::string> names(const Snapshot& seen, const std::map<std::string, ServiceRecord>& records) {
    std::set<std::string> out;
    for (const auto& [name, record] : records) out.insert(name);
    for (const auto* list : {&seen.stateful_sets, &seen.deployments})
      for (const auto& o : *list)
        if (std::string s = service_label(o); !s.empty()) out.insert(s);
    return out;
  }

  kube_runtime::EndpointNames endpoint_names_of(const std::string& service, const json* endpoint) const {
    return kube_runtime::endpoint_names(rk::endpoint_service_name(service), o_.render.namespace_name,
                                        o_.render.cluster_domain, endpoint);
  }

  // Whether the endpoint's certificate names what the informer says the
  // endpoint is reached by now, and is not due for renewal.
  bool certificate_current(const ServiceRecord& record) const {
    auto endpoint = informers_[3]->object(rk::endpoint_service_name(record.spec.name));
    return record.certificate_names == endpoint_names_of(record.spec.name, endpoint ? &*endpoint : nullptr).joined() &&
           o_.clock->unix_seconds() < record.renew_at;
  }

  // What the informers hold of `record`'s service.
  kube_runtime::ObservedService observed(const ServiceRecord& record, const Snapshot& seen,
                                         const std::map<std::string, int64_t>& generations) const {
    const std::string& service = record.spec.name;
    kube_runtime::ObservedService o;
    for (const auto& s : seen.stateful_sets)
      if (service_label(s) == service) o.stateful_sets[name_of(s)] = &s;
    for (const auto& p : seen.pods)
      if (service_label(p) == service) o.pods[name_of(p)] = &p;
    const std::string endpoint = rk::endpoint_service_name(service);
    for (const auto& d : seen.deployments)
      if (name_of(d) == endpoint) o.endpoint_deployment = &d;
    for (const auto& s : seen.services)
      if (name_of(s) == endpoint) o.endpoint_service = &s;
    o.in_cluster_host = endpoint + "." + o_.render.namespace_name + ".svc";
    o.applied_generations = generations;
    for (const auto& [service_name, partitions] : partitions_of(record))
      for (size_t i = 0; i < partitions.size(); ++i)
        o.partitions[rk::shard_stateful_set_name(service_name, static_cast<int>(i) + 1)] = partitions[i];
    return o;
  }

  // READY only for the spec last given, applied to its end, with a
  // certificate that names its endpoint; a version rollout under way is not
  // READY either (reason rolling, rollout_waiting or rollout_failed).
  ServiceStatus status_of(const ServiceRecord& record, const Snapshot& seen,
                          const std::map<std::string, int64_t>& generations) const {
    ServiceStatus status = kube_runtime::service_status(record.spec, observed(record, seen, generations));
    const bool whole = record.applied_digest == kube_runtime::spec_digest(record.spec) && certificate_current(record);
    if (status.state == ServiceState::kReady && !whole) {
      status.state = ServiceState::kProvisioning;
      status.reason = "starting";
    }
    if (record.rollout) report_rollout(record, status);
    std::map<std::string, kube_runtime::PodSeen> pods;
    for (const auto& [pod, replica] : replica_pods(record.spec.name, seen)) pods[pod] = replica.seen;
    if (auto reason = kube_runtime::scaling_reason(record.replicas, pods, o_.clock->unix_seconds());
        reason && status.state != ServiceState::kFailed) {
      if (status.state == ServiceState::kReady) status.state = ServiceState::kProvisioning;
      // A rollout's reason stays; what a replica change holds up is scaling.
      if (status.reason.empty() || status.reason == "starting" || *reason == "scale_failed") status.reason = *reason;
    }
    return status;
  }

  // The service's ClickHouse pods as the informer holds them, by name.
  static std::map<std::string, kube_runtime::ReplicaPod> replica_pods(const std::string& service, const Snapshot& seen) {
    std::map<std::string, kube_runtime::ReplicaPod> out;
    for (const auto& p : seen.pods)
      if (service_label(p) == service)
        if (auto replica = kube_runtime::replica_pod(p)) out[name_of(p)] = *replica;
    return out;
  }

  // As the local runtime reports one (model::ReportedRollout).
  static void report_rollout(const ServiceRecord& record, ServiceStatus& status) {
    const VersionRollout& r = *record.rollout;
    const int total = record.spec.shards * record.spec.replicas;
    status.rollout = model::ReportedRollout{r.id,
                                            r.state,
                                            kube_runtime::replicas_done(r, record.spec.shards, record.spec.replicas),
                                            total,
                                            r.failed_shard,
                                            r.failed_replica,
                                            r.failed_check};
    report_rollout_state(r.state, r.step_shard > 0, status);
  }

  // Service name → its StatefulSets' partitions as rendered: a rollout's,
  // none once it is done (or without one).
  std::map<std::string, std::vector<int>> partitions_of(const ServiceRecord& record) const {
    if (!record.rollout || record.rollout->partitions.empty()) return {};
    std::vector<int> partitions = record.rollout->partitions;
    // A service scaled down meanwhile; a shard held whole holds its leaving
    // replicas too (they are drained on what they run).
    const std::vector<int> held =
        kube_runtime::held_replicas(record.replicas, record.spec.shards, record.spec.replicas);
    for (size_t i = 0; i < partitions.size(); ++i) {
      partitions[i] = std::min(partitions[i], record.spec.replicas);
      if (partitions[i] == record.spec.replicas && i < held.size()) partitions[i] = held[i];
    }
    return {{record.spec.name, partitions}};
  }

  // The image the replicas of `record` run now.
  std::string image_of(const ServiceRecord& record) const {
    return record.image.empty() ? rk::clickhouse_image(record.spec.clickhouse_version, o_.render.registry) : record.image;
  }

  // The rollout `spec` asks of a service that is `current` (null: new) to
  // run `image` at its size. Without a request, none — the controller rolls
  // the pods itself, one at a time as each gets ready — but for one that
  // stopped on that same target (failed, or waiting): its pods stay held as
  // they are, or the controller would move them all at once to what just
  // failed, or outside the window.
  std::optional<VersionRollout> planned_rollout(const ServiceRecord* current, const ServiceSpec& spec,
                                                const std::string& image) const {
    const std::optional<VersionRollout>& was = current ? current->rollout : std::nullopt;
    if (!spec.rollout) {
      if (was && !was->partitions.empty() && kube_runtime::same_target(*was, image, spec)) return was;
      return std::nullopt;
    }
    const model::RolloutRequest& request = *spec.rollout;
    if (was && was->id == request.id && kube_runtime::same_target(*was, image, spec)) {
      VersionRollout same = *was;
      same.not_after = request.not_after;  // a moved window; the next round decides
      return same;
    }
    // A new service starts on its image at its size; one whose pods all run
    // both has nothing to roll.
    const bool runs_it = current && image_of(*current) == image && current->spec.cpu_millis == spec.cpu_millis &&
                         current->spec.memory_mib == spec.memory_mib && (!was || was->partitions.empty());
    if (!current || runs_it) {
      VersionRollout done = kube_runtime::hold_all(request.id, request.not_after, image, spec);
      done.state = "done";
      done.partitions.clear();
      return done;
    }
    spdlog::info("kubernetes runtime: {} rolls to version {} ({}) at {}m/{}Mi, rollout '{}'", spec.name,
                 spec.clickhouse_version, image, spec.cpu_millis, spec.memory_mib, request.id);
    return kube_runtime::hold_all(request.id, request.not_after, image, spec);
  }

  // A version this agent's versions.json doesn't list: nothing is touched,
  // and a requested rollout is reported failed (as the local runtime does).
  ServiceStatus refuse_version(const ServiceSpec& spec) {
    spdlog::warn("kubernetes runtime: refusing {}: version '{}' is not in {}", spec.name, spec.clickhouse_version,
                 kVersionsFile);
    ServiceStatus status = refused(spec.name, "unsupported_version");
    if (spec.rollout) {
      status.rollout = unknown_version_rollout(spec);
      std::lock_guard lock(mu_);
      refused_rollouts_[spec.name] = *status.rollout;
    }
    return status;
  }

  void advance_rollouts() {
    std::vector<std::string> names;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, record] : records_)
        if (record.rollout && record.rollout->state != "done") names.push_back(name);
    }
    for (const auto& name : names) {
      try {
        advance_rollout(name);
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: the rollout of {} cannot advance now: {}", name, e.what());
      }
    }
  }

  // One move of the service's rollout (version_rollout.h), recorded before it acts.
  void advance_rollout(const std::string& name) {
    ServiceRecord record;
    std::map<std::string, int64_t> generations;
    {
      std::lock_guard lock(mu_);
      auto it = records_.find(name);
      if (it == records_.end() || !it->second.rollout) return;
      record = it->second;
      generations = generations_;
    }
    VersionRollout next = *record.rollout;
    const auto views = kube_runtime::shard_views(record.spec, observed(record, snapshot(), generations));
    const kube_runtime::RolloutMove move =
        kube_runtime::advance(next, views, record.spec.replicas, o_.clock->unix_seconds());
    if (move.delete_shard > 0) {
      const std::string pod =
          rk::shard_stateful_set_name(name, move.delete_shard) + "-" + std::to_string(move.delete_ordinal);
      spdlog::info("kubernetes runtime: {} goes back to the version it ran", pod);
      client_.remove({"v1", "Pod", o_.render.namespace_name, pod});
    }
    if (move.changed) {
      log_move(name, *record.rollout, next);
      std::lock_guard lock(mu_);
      ServiceRecord& stored = records_[name];
      stored.rollout = next;
      kube_runtime::save_record_rollout(o_.root, stored);
      record = stored;
    }
    if (move.apply) {
      const model::DesiredState state = desired_state();
      for (const auto& s : state.services) {
        if (s.name != name) continue;
        for (const auto& object : rk::clickhouse_objects(state, s, render_options(state)))
          if (object.value("kind", "") == "StatefulSet") apply_object(object);
      }
    }
  }

  void advance_replica_changes() {
    std::vector<std::string> names;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, record] : records_) names.push_back(name);
    }
    for (const auto& name : names) {
      try {
        advance_replica_changes(name);
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: the replicas of {} cannot change now: {}", name, e.what());
      }
    }
  }

  // One round of replica_changes.h for the service: which pods may serve,
  // the joining ones' tables, the leaving ones' drain. A move that can't be
  // made now (a replica that doesn't answer, an API that refuses) is tried
  // again next round.
  void advance_replica_changes(const std::string& name) {
    ServiceRecord record;
    {
      std::lock_guard lock(mu_);
      auto it = records_.find(name);
      if (it == records_.end()) return;
      record = it->second;
    }
    // Nothing is decided on a pod's absence before the informer has listed.
    if (informers_[2]->resource_version().empty()) return;
    const auto pods = replica_pods(name, snapshot());
    std::map<std::string, kube_runtime::PodSeen> seen;
    for (const auto& [pod, replica] : pods) seen[pod] = replica.seen;
    const int64_t now = o_.clock->unix_seconds();
    for (const auto& move : kube_runtime::plan_replica_moves(record.replicas, name, record.spec.shards,
                                                             record.spec.replicas, seen, now)) {
      try {
        if (moves_.make(name, record.replicas, move, pods, now)) {
          std::lock_guard lock(mu_);
          membership_stale_.insert(name);
        }
      } catch (const Error& e) {
        spdlog::warn("kubernetes runtime: {}: {}", move.pod, e.what());
      }
    }
    {
      std::lock_guard lock(mu_);
      if (!membership_stale_.count(name)) return;
    }
    // Who is in the cluster and how many replicas each StatefulSet keeps;
    // until applied whole, tried again every round.
    const model::DesiredState state = desired_state();
    for (const auto& s : state.services)
      if (s.name == name)
        for (const auto& object : rk::clickhouse_objects(state, s, render_options(state))) {
          const std::string kind = object.value("kind", "");
          if (kind == "ConfigMap" || kind == "StatefulSet") apply_object(object);
        }
    std::lock_guard lock(mu_);
    membership_stale_.erase(name);
  }

  // The service's replica changes on disk and in memory, before what follows them acts.
  void save_replica_changes(const std::string& service, const kube_runtime::ReplicaChanges& changes) {
    std::lock_guard lock(mu_);
    auto it = records_.find(service);
    if (it == records_.end()) return;
    it->second.replicas = changes;
    kube_runtime::save_record_replicas(o_.root, it->second);
  }

  static void log_move(const std::string& name, const VersionRollout& was, const VersionRollout& now) {
    if (now.step_shard > 0 && was.step_shard == 0)
      spdlog::info("kubernetes runtime: {}-s{}-{} moves to {}", name, now.step_shard, now.step_ordinal, now.image);
    if (now.state != was.state)
      spdlog::info("kubernetes runtime: the rollout '{}' of {} is {}{}", now.id, name, now.state,
                   now.state == "failed" ? " (its " + now.failed_check + " check)" : "");
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
      } catch (const std::exception& e) {
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

  model::DesiredState desired_state() const {
    model::DesiredState state;
    state.environment_id = o_.environment_id;
    state.environment_cidr = o_.environment_cidr;
    std::lock_guard lock(mu_);
    for (const auto& [name, record] : records_) state.services.push_back(record.spec);
    return state;
  }

  // `pending`: a record not stored yet, over the stored one of its service.
  rk::KubernetesOptions render_options(const model::DesiredState& state, const ServiceRecord* pending = nullptr) const {
    rk::KubernetesOptions options = o_.render;
    std::lock_guard lock(mu_);
    for (const auto& s : state.services) {
      const ServiceRecord* record = pending && pending->spec.name == s.name ? pending : nullptr;
      if (auto it = records_.find(s.name); !record && it != records_.end()) record = &it->second;
      if (!record) continue;
      if (!record->image.empty()) options.clickhouse_images[s.name] = record->image;
      options.partitions.merge(partitions_of(*record));
      if (auto outside = kube_runtime::outside_cluster(record->replicas); !outside.empty())
        options.outside_cluster[s.name] = std::move(outside);
      if (!record->replicas.leaving.empty())
        options.held_replicas[s.name] = kube_runtime::held_replicas(record->replicas, s.shards, s.replicas);
    }
    options.support_gateway.enabled = gateway_.enabled;
    options.support_gateway.ca_pem = gateway_.ca_pem;
    options.support_gateway.crl_pem = gateway_.crl_pem;
    for (const auto& s : state.services) {
      if (auto it = certificate_revisions_.find(s.name); it != certificate_revisions_.end())
        options.certificate_revisions[s.name] = it->second;
      if (auto it = records_.find(s.name); it != records_.end() && !it->second.incarnation.empty())
        options.incarnations[s.name] = it->second.incarnation;
    }
    return options;
  }

  ServiceStatus apply_locked(const ServiceSpec& spec) {
    ServiceRecord record;
    bool known = false;
    {
      std::lock_guard lock(mu_);
      if (auto it = records_.find(spec.name); it != records_.end()) {
        record = it->second;
        known = true;
      }
    }
    // Nor may a service start or stop needing ZooKeeper (one replica in all,
    // or more): its tables would not follow (as on the local runtime).
    if (known && (record.spec.shards != spec.shards || rk::needs_zookeeper(record.spec) != rk::needs_zookeeper(spec)))
      return refused(spec.name, "unsupported_topology");
    std::optional<std::string> image =
        kube_runtime::resolve_image(o_.versions, spec.clickhouse_version, o_.render.registry);
    if (!image) return refuse_version(spec);
    model::DesiredState state = desired_state();
    std::erase_if(state.services, [&](const ServiceSpec& s) { return s.name == spec.name; });
    state.services.push_back(spec);
    ServiceRecord next = record;
    next.spec = spec;
    next.image = *image;
    next.rollout = planned_rollout(known ? &record : nullptr, spec, *image);
    kube_runtime::note_replicas(next.replicas, spec.name, spec.shards, known ? record.spec.replicas : 0, spec.replicas,
                                o_.clock->unix_seconds());
    try {
      rk::check_desired_state(state, render_options(state, &next));
    } catch (const Error& e) {
      spdlog::warn("kubernetes runtime: refusing {}: {}", spec.name, e.what());
      return refused(spec.name, e.field().find("clickhouse_version") != std::string::npos ? "unsupported_version"
                                                                                          : "unsupported_topology");
    }
    // The spec (its image, its rollout) first: a crash from here on is
    // repaired by the same apply, and `applied` (below, at the end) tells
    // the spec was applied whole.
    record = kube_runtime::save_spec(o_.root, next);
    {
      std::lock_guard lock(mu_);
      records_[spec.name] = record;
      refused_rollouts_.erase(spec.name);
    }
    make_secrets(spec, state);
    const rk::KubernetesOptions options = render_options(state);
    std::vector<json> ours;
    for (auto& object : rk::render_kubernetes(state, options)) {
      std::string owner = service_label(object);
      if (owner.empty() || owner == spec.name) ours.push_back(std::move(object));
    }
    for (const auto& object : ours) apply_object(object);
    prune(spec.name, ours, state);
    prune("", ours, state);
    {
      std::lock_guard lock(mu_);
      ServiceRecord& stored = records_[spec.name];
      stored.applied_digest = kube_runtime::spec_digest(spec);
      kube_runtime::save_applied(o_.root, stored);
    }
    if (record.rollout && record.rollout->state != "done") advance_rollout(spec.name);
    advance_replica_changes(spec.name);
    std::map<std::string, int64_t> generations;
    {
      std::lock_guard lock(mu_);
      record = records_[spec.name];
      generations = generations_;
    }
    return status_of(record, snapshot(), generations);
  }

  // Applies one object; a workload's generation is what observe() waits for.
  void apply_object(const json& object) {
    json live = client_.apply(object);
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

  // The Secrets the renderer refers to: internal passwords (each made once,
  // kept), the endpoint's certificate, the gateway check's key.
  void make_secrets(const ServiceSpec& spec, const model::DesiredState& state) {
    const rk::KubernetesOptions options = render_options(state);
    const std::string& ns = o_.render.namespace_name;
    auto credentials = client_.get({"v1", "Secret", ns, rk::credentials_secret_name(spec.name)});
    std::map<std::string, std::string> passwords;
    bool made = false;
    for (const char* key : {rk::kClusterPasswordKey, rk::kSupportPasswordKey}) {
      const std::optional<std::string> kept = kube_runtime::secret_value(credentials ? &*credentials : nullptr, key);
      made = made || !kept || kept->empty();
      passwords[key] = kept && !kept->empty() ? *kept : crypto::hex(crypto::random_bytes(24));
    }
    if (made)
      client_.apply(rk::runtime_secret(state, options, spec.name, rk::credentials_secret_name(spec.name), "Opaque",
                                       passwords));
    moves_.set_cluster_password(spec.name, passwords[rk::kClusterPasswordKey]);
    // The names the endpoint is reached by, as the API says now (the
    // informer may not have listed yet).
    auto endpoint = client_.get({"v1", "Service", ns, rk::endpoint_service_name(spec.name)});
    const kube_runtime::EndpointNames names = endpoint_names_of(spec.name, endpoint ? &*endpoint : nullptr);
    auto tls = client_.get({"v1", "Secret", ns, rk::tls_secret_name(spec.name)});
    if (!kube_runtime::certificate_usable(tls ? &*tls : nullptr, names, o_.environment_ca.cert_pem, *o_.clock)) {
      crypto::KeyedCertificate issued = kube_runtime::issue_endpoint_certificate(o_.environment_ca, names, *o_.clock);
      json secret = rk::runtime_secret(state, options, spec.name, rk::tls_secret_name(spec.name), "kubernetes.io/tls",
                                       {{"tls.crt", issued.cert_pem}, {"tls.key", issued.key_pem}});
      secret["metadata"]["annotations"] = {{kube_runtime::kCertificateNamesAnnotation, names.joined()}};
      tls = client_.apply(secret);
      spdlog::info("kubernetes runtime: issued the endpoint certificate of {} for {}", spec.name, names.joined());
    }
    bool gateway;
    std::string check_key;
    {
      std::lock_guard lock(mu_);
      certificate_revisions_[spec.name] = kube_runtime::certificate_revision(tls ? &*tls : nullptr);
      ServiceRecord& stored = records_[spec.name];
      stored.certificate_names = names.joined();
      stored.renew_at = kube_runtime::certificate_renew_at(tls ? &*tls : nullptr);
      kube_runtime::save_certificate(o_.root, stored);
      gateway = gateway_.enabled;
      check_key = gateway_.check_key;
    }
    if (gateway)
      client_.apply(rk::runtime_secret(state, options, "", rk::kGatewayCheckSecret, "Opaque",
                                       {{rk::kGatewayCheckKey, check_key}}));
  }

  // Deletes what `owner`'s objects ("" : the environment's) no longer hold:
  // labelled as ours, of this environment and owner, and not in `rendered`.
  void prune(const std::string& owner, const std::vector<json>& rendered, const model::DesiredState& state) {
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
    for (Kind k : kPrunedKinds) {
      for (const auto& object : client_.list(k.api_version, k.kind, o_.render.namespace_name, selector)) {
        if (service_label(object) != owner || keep.count(key_of(object))) continue;
        spdlog::info("kubernetes runtime: pruning {} {}", k.kind, name_of(object));
        client_.remove(kube::ref_of(object));
      }
    }
    // An ensemble no service uses goes with its data: whenever none is
    // needed, so a crash between its StatefulSet and its claims repeats this.
    if (owner.empty() && !rk::needs_zookeeper(state))
      for (const auto& claim : client_.list(kClaim.api_version, kClaim.kind, o_.render.namespace_name, selector))
        if (service_label(claim).empty()) client_.remove(kube::ref_of(claim));
  }

  std::atomic<bool> stop_{false};  // first: o_'s client configuration points at it
  const KubernetesRuntimeOptions o_;
  kube::Client client_;  // the applying thread's: apply(), remove(), set_support_gateway()
  // The applying thread's too: what replica_changes.h decides, made.
  kube_runtime::ReplicaMoves moves_{client_, o_, [this](const std::string& service,
                                                        const kube_runtime::ReplicaChanges& changes) {
    save_replica_changes(service, changes);
  }};
  std::string selector_;
  std::mutex work_mu_;   // one change at a time
  mutable std::mutex mu_;  // everything below
  std::map<std::string, ServiceRecord> records_;
  SupportGateway gateway_;
  std::set<std::string> pending_;  // services to apply again (a gateway change, a certificate due)
  std::map<std::string, int64_t> generations_;  // workload → generation of the last apply
  std::map<std::string, std::string> workload_services_;
  std::map<std::string, std::string> certificate_revisions_;
  std::set<std::string> membership_stale_;  // services whose cluster or held replicas changed since last applied
  // A requested rollout of a version this agent can't run, by service:
  // reported until the service is applied or removed.
  std::map<std::string, model::ReportedRollout> refused_rollouts_;
  std::vector<std::unique_ptr<kube::Informer>> informers_;  // StatefulSets, Deployments, Pods, Services
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<Runtime> make_kubernetes_runtime(const KubernetesRuntimeOptions& options) {
  return std::make_unique<KubernetesRuntime>(options);
}

}  // namespace byoc::agent
