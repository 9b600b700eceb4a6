#include "stand_in_cluster.h"

#include "base/crypto.h"
#include "base/percent.h"

namespace byoc::testing {
using nlohmann::json;

namespace {

CannedResponse json_answer(int status, const json& body) {
  return {status, {{"Content-Type", "application/json"}}, body.dump()};
}

CannedResponse status_answer(int code, const std::string& reason, const std::string& message) {
  return json_answer(code, {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"message", message},
                            {"reason", reason}, {"code", code}});
}

}  // namespace

bool is_kubernetes_request(const RecordedRequest& r) {
  return r.target.rfind("/api/", 0) == 0 || r.target.rfind("/apis/", 0) == 0;
}

StandInCluster::StandInCluster(std::string name, std::string endpoint, std::string ca_pem)
    : name_(std::move(name)), endpoint_(std::move(endpoint)), ca_pem_(std::move(ca_pem)) {}

std::optional<CannedResponse> StandInCluster::operator()(const RecordedRequest& r) {
  if (r.method == "GET" && r.target == "/clusters/" + name_)
    return json_answer(200, {{"cluster",
                              {{"name", name_},
                               {"arn", "arn:aws:eks:eu-west-1:123456789012:cluster/" + name_},
                               {"status", "ACTIVE"},
                               {"endpoint", endpoint_},
                               {"certificateAuthority", {{"data", crypto::base64(ca_pem_)}}}}}});
  if (std::optional<CannedResponse> groups = nodegroups(r)) return groups;
  if (!is_kubernetes_request(r)) return std::nullopt;
  const std::string path = r.target.substr(0, r.target.find('?'));
  std::lock_guard lock(mutex_);
  if (r.method == "PATCH") {
    if (r.header("content-type") != "application/apply-patch+yaml")
      return status_answer(415, "UnsupportedMediaType", "apply needs application/apply-patch+yaml");
    json object = json::parse(r.body);
    object["metadata"]["uid"] = "uid-" + std::to_string(objects_.size() + 1);
    objects_[path] = object;
    return json_answer(200, object);
  }
  if (r.method == "GET") {
    auto it = objects_.find(path);
    if (it == objects_.end()) return status_answer(404, "NotFound", path + " not found");
    return json_answer(200, it->second);
  }
  return status_answer(405, "MethodNotAllowed", r.method + " is not served here");
}

namespace {

CannedResponse eks_error(int status, const std::string& type, const std::string& message) {
  return {status, {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", type}}, json{{"message", message}}.dump()};
}

std::string status_of(const json& description) { return description.value("status", "ACTIVE"); }

}  // namespace

std::optional<CannedResponse> StandInCluster::nodegroups(const RecordedRequest& r) {
  const std::string prefix = "/clusters/" + name_ + "/node-groups";
  const std::string path = r.target.substr(0, r.target.find('?'));
  if (path.rfind("/tags/", 0) == 0 && r.method == "POST") {  // TagResource of a group
    std::lock_guard lock(mutex_);
    const std::string arn = percent_decode(path.substr(6), false).value_or("");
    for (auto& [name, g] : nodegroups_)
      if (g.description.value("nodegroupArn", "") == arn) {
        const json tags = json::parse(r.body).value("tags", json::object());
        for (const auto& [key, value] : tags.items()) g.description["tags"][key] = value;
        return json_answer(200, json::object());
      }
    return eks_error(404, "ResourceNotFoundException", "No resource found for " + arn);
  }
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (path == prefix && r.method == "GET") {
    std::vector<std::string> names;
    for (auto it = nodegroups_.begin(); it != nodegroups_.end();) {
      if (status_of(it->second.description) == "DELETING" && it->second.lists_left-- == 0) {
        if (it->first == fail_deletion_) {
          it->second.description["status"] = "DELETE_FAILED";
          it->second.description["health"] = {
              {"issues", json::array({{{"code", "Ec2SecurityGroupDeletionFailure"},
                                       {"message", "a security group is in use"}}})}};
        } else {
          it = nodegroups_.erase(it);
          continue;
        }
      }
      names.push_back(it->first);
      ++it;
    }
    listed_.push_back(names);
    return json_answer(200, {{"nodegroups", names}});
  }
  if (path == prefix && r.method == "POST") {
    json body = json::parse(r.body);
    const std::string group = body.value("nodegroupName", "");
    if (nodegroups_.count(group)) return eks_error(409, "ResourceInUseException", "NodeGroup already exists with name " + group + " and cluster name " + name_);
    creations_.push_back(body);
    json d = body;
    d.erase("clientRequestToken");
    d["clusterName"] = name_;
    d["nodegroupArn"] = "arn:aws:eks:eu-west-1:123456789012:nodegroup/" + name_ + "/" + group + "/0ac1b2c3";
    d["status"] = "CREATING";
    d["version"] = "1.31";
    if (fail_creation_) {
      d["health"] = {{"issues", json::array({{{"code", fail_creation_->first}, {"message", fail_creation_->second}}})}};
      d["failing"] = true;
      fail_creation_.reset();
    }
    nodegroups_[group] = {d, 0, 2};
    return json_answer(200, {{"nodegroup", d}});
  }
  if (path.size() <= prefix.size() + 1 || path[prefix.size()] != '/') return std::nullopt;
  std::string group = path.substr(prefix.size() + 1);
  const bool update_config = group.ends_with("/update-config");
  if (update_config) group.resize(group.size() - std::string("/update-config").size());
  auto it = nodegroups_.find(group);
  if (it == nodegroups_.end())
    return eks_error(404, "ResourceNotFoundException", "No node group found for name: " + group + ".");
  json& d = it->second.description;
  if (update_config && r.method == "POST") {
    if (status_of(d) != "ACTIVE") return eks_error(409, "ResourceInUseException", "Nodegroup " + group + " is " + status_of(d));
    json body = json::parse(r.body);
    body["nodegroupName"] = group;
    config_updates_.push_back(body);
    if (body.contains("scalingConfig")) d["scalingConfig"] = body["scalingConfig"];
    d["status"] = "UPDATING";
    it->second.looks_left = 1;
    return json_answer(200, {{"update", {{"id", "u-" + std::to_string(config_updates_.size())}, {"status", "InProgress"}, {"type", "ConfigUpdate"}}}});
  }
  if (r.method == "DELETE") {
    if (status_of(d) == "DELETING")
      return eks_error(409, "ResourceInUseException", "Nodegroup " + group + " is being deleted");
    deletions_.push_back(group);
    d["status"] = "DELETING";
    it->second.lists_left = 2;
  } else if (r.method != "GET") {
    return std::nullopt;
  } else if ((status_of(d) == "CREATING" || status_of(d) == "UPDATING") && it->second.looks_left-- <= 0) {
    d["status"] = d.value("failing", false) ? "CREATE_FAILED" : "ACTIVE";
  }
  json shown = d;
  shown.erase("failing");
  return json_answer(200, {{"nodegroup", shown}});
}

void StandInCluster::put_nodegroup(const json& description) {
  std::lock_guard lock(mutex_);
  json d = description;
  d["clusterName"] = name_;
  d["nodegroupArn"] =
      "arn:aws:eks:eu-west-1:123456789012:nodegroup/" + name_ + "/" + d.value("nodegroupName", "") + "/0ac1b2c3";
  if (!d.contains("status")) d["status"] = "ACTIVE";
  nodegroups_[d.value("nodegroupName", "")] = {d, 0, 0};
}

void StandInCluster::drop_nodegroup(const std::string& name) {
  std::lock_guard lock(mutex_);
  nodegroups_.erase(name);
}

std::map<std::string, json> StandInCluster::nodegroups() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, json> out;
  for (const auto& [name, g] : nodegroups_) out[name] = g.description;
  return out;
}

void StandInCluster::fail_next_creation(const std::string& code, const std::string& message) {
  std::lock_guard lock(mutex_);
  fail_creation_ = {code, message};
}

void StandInCluster::fail_deletion_of(const std::string& name) {
  std::lock_guard lock(mutex_);
  fail_deletion_ = name;
}

std::vector<std::vector<std::string>> StandInCluster::listed() const {
  std::lock_guard lock(mutex_);
  return listed_;
}

std::vector<json> StandInCluster::creations() const {
  std::lock_guard lock(mutex_);
  return creations_;
}

std::vector<json> StandInCluster::config_updates() const {
  std::lock_guard lock(mutex_);
  return config_updates_;
}

std::vector<std::string> StandInCluster::deletions() const {
  std::lock_guard lock(mutex_);
  return deletions_;
}

std::map<std::string, json> StandInCluster::objects() const {
  std::lock_guard lock(mutex_);
  return objects_;
}

}  // namespace byoc::testing
