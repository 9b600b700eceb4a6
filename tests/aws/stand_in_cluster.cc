#include "stand_in_cluster.h"

#include "base/crypto.h"

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

std::optional<CannedResponse> StandInCluster::nodegroups(const RecordedRequest& r) {
  const std::string prefix = "/clusters/" + name_ + "/node-groups";
  const std::string path = r.target.substr(0, r.target.find('?'));
  if (path.rfind(prefix, 0) != 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (path == prefix && r.method == "GET") {
    std::vector<std::string> names;
    for (auto it = nodegroups_.begin(); it != nodegroups_.end();) {
      if (it->second.status == "DELETING" && it->second.lists_left-- == 0) {
        it = nodegroups_.erase(it);
        continue;
      }
      names.push_back(it->first);
      ++it;
    }
    listed_.push_back(names);
    return json_answer(200, {{"nodegroups", names}});
  }
  if (path.size() <= prefix.size() + 1 || path[prefix.size()] != '/') return std::nullopt;
  const std::string group = path.substr(prefix.size() + 1);
  auto it = nodegroups_.find(group);
  if (it == nodegroups_.end())
    return CannedResponse{404,
                          {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", "ResourceNotFoundException"}},
                          json{{"message", "No node group found for name: " + group + "."}}.dump()};
  if (r.method == "DELETE") {
    if (it->second.status == "DELETING")
      return CannedResponse{409,
                            {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", "ResourceInUseException"}},
                            json{{"message", "Nodegroup " + group + " is being deleted"}}.dump()};
    it->second = {"DELETING", 2};
  } else if (r.method != "GET") {
    return std::nullopt;
  }
  return json_answer(200, {{"nodegroup", {{"nodegroupName", group}, {"clusterName", name_}, {"status", it->second.status}}}});
}

void StandInCluster::set_nodegroups(const std::vector<std::string>& names) {
  std::lock_guard lock(mutex_);
  nodegroups_.clear();
  for (const auto& name : names) nodegroups_[name] = {};
}

std::vector<std::vector<std::string>> StandInCluster::listed() const {
  std::lock_guard lock(mutex_);
  return listed_;
}

std::map<std::string, json> StandInCluster::objects() const {
  std::lock_guard lock(mutex_);
  return objects_;
}

}  // namespace byoc::testing
