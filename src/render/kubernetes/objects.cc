#include "render/kubernetes/objects.h"

#include "base/error.h"

namespace byoc::render::kubernetes::detail {

std::string Env::service_host(const std::string& service) const {
  return service_host_in(service, options.namespace_name);
}

std::string Env::service_host_in(const std::string& service, const std::string& namespace_name) const {
  return service + "." + namespace_name + ".svc." + options.cluster_domain;
}

std::string Env::pod_host(const std::string& pod, const std::string& governing_service) const {
  return pod + "." + service_host(governing_service);
}

std::string replicas_service_name(const std::string& service) { return service + "-replicas"; }
std::string clickhouse_service_name(const std::string& service) { return service + "-clickhouse"; }

json selector_labels(const std::string& app, const std::string& service, int shard) {
  json out = {{"app.kubernetes.io/name", app}};
  if (!service.empty()) out["byoc.io/service"] = service;
  if (shard > 0) out["byoc.io/shard"] = std::to_string(shard);
  return out;
}

json common_labels(const Env& env) {
  return {{"app.kubernetes.io/part-of", "byoc"},
          {"app.kubernetes.io/managed-by", "byoc"},
          {"byoc.io/environment", env.state.environment_id}};
}

json labels(const Env& env, const std::string& app, const std::string& service, int shard) {
  json out = selector_labels(app, service, shard);
  out.update(common_labels(env));
  return out;
}

json object(const Env& env, const char* api_version, const char* kind, const std::string& name, json labels) {
  return {{"apiVersion", api_version},
          {"kind", kind},
          {"metadata", {{"name", name}, {"namespace", env.options.namespace_name}, {"labels", std::move(labels)}}}};
}

json config_map(const Env& env, const std::string& name, json labels, json data) {
  json o = object(env, "v1", "ConfigMap", name, std::move(labels));
  o["data"] = std::move(data);
  return o;
}

json disruption_budget(const Env& env, const std::string& name, json labels, json selector) {
  json o = object(env, "policy/v1", "PodDisruptionBudget", name, std::move(labels));
  o["spec"] = {{"maxUnavailable", 1}, {"selector", {{"matchLabels", std::move(selector)}}}};
  return o;
}

json stateful_set(const Env& env, const std::string& name, const json& labels, const json& selector, int replicas,
                  const std::string& governing, json pod, int volume_gib, json pod_annotations) {
  json claim = {{"metadata", {{"name", "data"}, {"labels", labels}}},
                {"spec",
                 {{"accessModes", json::array({"ReadWriteOnce"})},
                  {"storageClassName", env.options.storage_class},
                  {"resources", {{"requests", {{"storage", std::to_string(volume_gib) + "Gi"}}}}}}}};
  json o = object(env, "apps/v1", "StatefulSet", name, labels);
  o["spec"] = {{"replicas", replicas},
               {"serviceName", governing},
               {"podManagementPolicy", "Parallel"},
               {"updateStrategy", {{"type", "RollingUpdate"}}},
               // The data outlives the StatefulSet: the runtime deletes the
               // claims when it removes what used them, not before.
               {"persistentVolumeClaimRetentionPolicy", {{"whenDeleted", "Retain"}, {"whenScaled", "Retain"}}},
               {"selector", {{"matchLabels", selector}}},
               {"template", {{"metadata", {{"labels", labels}}}, {"spec", std::move(pod)}}},
               {"volumeClaimTemplates", json::array({claim})}};
  if (pod_annotations.is_object()) o["spec"]["template"]["metadata"]["annotations"] = std::move(pod_annotations);
  return o;
}

json pod_spec(int uid, json container, json volumes) {
  json security = {{"runAsNonRoot", true},
          {"runAsUser", uid},
          {"runAsGroup", uid},
          {"fsGroup", uid},
          // A large volume is chowned once, not at every start.
          {"fsGroupChangePolicy", "OnRootMismatch"},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
  return {{"automountServiceAccountToken", false},
          {"enableServiceLinks", false},
          {"securityContext", security},
          {"containers", json::array({std::move(container)})},
          {"volumes", std::move(volumes)}};
}

json container_security() {
  return {{"runAsNonRoot", true},
          {"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", json::array({"ALL"})}}}};
}

json guaranteed_resources(const std::string& cpu, const std::string& memory) {
  json amounts = {{"cpu", cpu}, {"memory", memory}};
  return {{"requests", amounts}, {"limits", amounts}};
}

json container_port(const char* name, int port) {
  return {{"name", name}, {"containerPort", port}, {"protocol", "TCP"}};
}

json service_port(const char* name, int port) {
  return {{"name", name}, {"port", port}, {"targetPort", name}, {"protocol", "TCP"}};
}

json env_from_secret(const char* variable, const std::string& secret, const char* key) {
  return {{"name", variable}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

json empty_dir(const char* name, const char* size_limit) {
  return {{"name", name}, {"emptyDir", {{"sizeLimit", size_limit}}}};
}

json spread_across_nodes_and_zones(const json& selector) {
  json pick = {{"matchLabels", selector}};
  return {
      {"affinity",
       {{"podAntiAffinity",
         {{"requiredDuringSchedulingIgnoredDuringExecution",
           json::array({{{"labelSelector", pick}, {"topologyKey", "kubernetes.io/hostname"}}})}}}}},
      // DoNotSchedule: a first placement lopsided across zones would stay so,
      // as each replica's EBS volume then keeps it in its zone.
      {"topologySpreadConstraints", json::array({{{"maxSkew", 1},
                                                  {"topologyKey", "topology.kubernetes.io/zone"},
                                                  {"whenUnsatisfiable", "DoNotSchedule"},
                                                  {"labelSelector", pick}}})}};
}

json probe_tcp(int port, int initial_delay_seconds, int period_seconds, int failure_threshold) {
  return {{"tcpSocket", {{"port", port}}},
          {"initialDelaySeconds", initial_delay_seconds},
          {"periodSeconds", period_seconds},
          {"failureThreshold", failure_threshold}};
}

void replace_exactly(std::string& text, std::string_view from, std::string_view to, int count) {
  int found = 0;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++found;
  }
  if (found != count)
    throw Error::Internal("kubernetes renderer: expected " + std::to_string(count) + " of '" + std::string(from) +
                          "' in a rendered config, found " + std::to_string(found));
}

}  // namespace byoc::render::kubernetes::detail
