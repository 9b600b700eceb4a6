// An EKS cluster as tests see it, behind FakeAws: EKS's DescribeCluster
// (its endpoint is the stand-in's own URL, its CA the stand-in's) and the
// Kubernetes API the plane bootstraps the agent through — server-side apply
// (PATCH, application/apply-patch+yaml) that keeps what was applied, GET of
// what was applied, a Status 404 for the rest — and the cluster's node
// groups: ListNodegroups, DescribeNodegroup, DeleteNodegroup (a group being
// deleted is listed DELETING twice more, then gone).
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
  // The node groups on the cluster (none unless set).
  void set_nodegroups(const std::vector<std::string>& names);
  // What each ListNodegroups answered, in turn.
  std::vector<std::vector<std::string>> listed() const;

 private:
  std::optional<CannedResponse> nodegroups(const RecordedRequest& request);

  std::string name_, endpoint_, ca_pem_;
  mutable std::mutex mutex_;
  std::map<std::string, nlohmann::json> objects_;
  struct Nodegroup {
    std::string status = "ACTIVE";
    int lists_left = 0;  // DELETING: lists it still shows in
  };
  std::map<std::string, Nodegroup> nodegroups_;
  std::vector<std::vector<std::string>> listed_;
};

// Whether `request` went to the Kubernetes API (rather than to AWS).
bool is_kubernetes_request(const RecordedRequest& request);

}  // namespace byoc::testing
