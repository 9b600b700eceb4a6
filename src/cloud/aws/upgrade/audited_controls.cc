#include "cloud/aws/upgrade/audited_controls.h"

namespace byoc::aws {
namespace {

nlohmann::json call(const char* name) { return {{"action", "upgrade_cluster"}, {"call", name}}; }

}  // namespace

std::string AuditedEksControl::update_cluster_version(const std::string& version, const std::string& token) {
  nlohmann::json event = call("update_cluster_version");
  event["version"] = version;
  record_(event);
  return inner_.update_cluster_version(version, token);
}

void AuditedEksControl::create_nodegroup(const plan::upgrade::CreateNodegroupRequest& request) {
  nlohmann::json event = call("create_nodegroup");
  event["node_group"] = request.nodegroupName;
  event["version"] = request.version;
  event["instance_types"] = request.instanceTypes;
  event["nodes"] = request.desiredSize;
  record_(event);
  inner_.create_nodegroup(request);
}

void AuditedEksControl::delete_nodegroup(const std::string& name) {
  nlohmann::json event = call("delete_nodegroup");
  event["node_group"] = name;
  record_(event);
  inner_.delete_nodegroup(name);
}

void AuditedEksControl::update_addon(const std::string& name, const std::string& version, const std::string& token) {
  nlohmann::json event = call("update_addon");
  event["addon"] = name;
  event["version"] = version;
  record_(event);
  inner_.update_addon(name, version, token);
}

void AuditedKubeControl::taint_and_label_node(const std::string& node, const plan::upgrade::Taint& taint,
                                              const std::string& label, const std::string& label_value) {
  nlohmann::json event = call("taint_node");
  event["node"] = node;
  event["taint"] = taint.key + "=" + taint.value + ":" + taint.effect;
  event["label"] = label + "=" + label_value;
  record_(event);
  inner_.taint_and_label_node(node, taint, label, label_value);
}

void AuditedKubeControl::cordon_node(const std::string& node) {
  nlohmann::json event = call("cordon_node");
  event["node"] = node;
  record_(event);
  inner_.cordon_node(node);
}

plan::upgrade::EvictionResult AuditedKubeControl::evict_pod(const std::string& pod) {
  nlohmann::json event = call("evict_pod");
  event["pod"] = pod;
  record_(event);
  return inner_.evict_pod(pod);
}

}  // namespace byoc::aws
