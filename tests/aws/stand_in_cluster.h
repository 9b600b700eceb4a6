// An EKS cluster as tests see it, behind FakeAws: EKS's DescribeCluster
// (its endpoint is the stand-in's own URL, its CA the stand-in's) and the
// Kubernetes API the plane bootstraps the agent through — server-side apply
// (PATCH, application/apply-patch+yaml) that keeps what was applied, GET of
// what was applied, a Status 404 for the rest — and the cluster's managed
// node groups: ListNodegroups, DescribeNodegroup, CreateNodegroup (CREATING
// for two looks, then ACTIVE, or CREATE_FAILED when told), UpdateNodegroupConfig
// (UPDATING for a look), DeleteNodegroup (a group being deleted is listed
// DELETING twice more, then gone, or DELETE_FAILED when told), with EKS's
// ResourceInUseException for a name taken and a group already going.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_aws.h"

namespace byoc::testing {

class StandInCluster {
 public:
  StandInCluster(std::string name, std::string endpoint, std::string ca_pem);
  // Answers EKS's DescribeCluster of this cluster and the Kubernetes API; nullopt for anything else.
  std::optional<CannedResponse> operator()(const RecordedRequest& request);
  // Each applied object, by its API path.
  std::map<std::string, nlohmann::json> objects() const;
  // A node group as DescribeNodegroup tells it (its nodegroupName, status…),
  // put there as if by someone else (an upgrade, an older byoc).
  void put_nodegroup(const nlohmann::json& description);
  // Takes a group away at once (as an upgrade that replaced it did).
  void drop_nodegroup(const std::string& name);
  // The groups there now, by name, as DescribeNodegroup tells them.
  std::map<std::string, nlohmann::json> nodegroups() const;
  // The next group created fails (CREATE_FAILED, with this health issue).
  void fail_next_creation(const std::string& code, const std::string& message);
  // Deletes of `name` fail (DELETE_FAILED) until told otherwise ("": none).
  void fail_deletion_of(const std::string& name);
  // What each ListNodegroups answered, in turn.
  std::vector<std::vector<std::string>> listed() const;
  // The bodies of CreateNodegroup and UpdateNodegroupConfig calls taken, and
  // the names deleted, in turn.
  std::vector<nlohmann::json> creations() const;
  std::vector<nlohmann::json> config_updates() const;
  std::vector<std::string> deletions() const;

 private:
  std::optional<CannedResponse> nodegroups(const RecordedRequest& request);

  std::string name_, endpoint_, ca_pem_;
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  struct Nodegroup {
    nlohmann::json description;
    int lists_left = 0;  // DELETING: lists it still shows in
    int looks_left = 0;  // CREATING, UPDATING: looks until it is ACTIVE
  };
  std::map<std::string, Nodegroup> nodegroups_;
  std::vector<std::vector<std::string>> listed_;
  std::vector<nlohmann::json> creations_, config_updates_;
  std::vector<std::string> deletions_;
  std::optional<std::pair<std::string, std::string>> fail_creation_;
  std::string fail_deletion_;
};

// Whether `request` went to the Kubernetes API (rather than to AWS).
bool is_kubernetes_request(const RecordedRequest& request);

}  // namespace byoc::testing
