// EksControl: the Amazon EKS operations the Kubernetes upgrader needs, one
// method per API operation (UpdateClusterVersion, DescribeCluster,
// ListNodegroups, CreateNodegroup, DescribeNodegroup, DeleteNodegroup,
// UpdateAddon, DescribeAddon), with the request and response fields under
// their API names. The deterministic simulator (simulator.h) implements it;
// so would an adapter over aws::Client. No method waits for the cloud to
// finish: the upgrader polls the Describe calls.
//
// Every method may throw Throttled (HTTP 429, ThrottlingException) — the
// caller retries with backoff. Not thread-safe: one upgrader drives one.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace byoc::plan::upgrade {

// HTTP 429 from either API: the request was not acted on; send it again later.
class Throttled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// DescribeCluster → cluster.{name, version, status}; status is "ACTIVE" or
// "UPDATING" while an UpdateClusterVersion runs.
struct Cluster {
  std::string name;
  std::string version;  // "1.30"
  std::string status;
};

// CreateNodegroup's request (the fields the upgrader sets).
struct CreateNodegroupRequest {
  std::string nodegroupName;
  std::string version;
  std::vector<std::string> instanceTypes;
  int desiredSize = 0;  // scalingConfig.desiredSize (minSize and maxSize the same)
  std::map<std::string, std::string> labels;
  std::string clientRequestToken;  // idempotency: the same token creates once
};

// DescribeNodegroup → nodegroup.{…}; status CREATING, ACTIVE, CREATE_FAILED,
// DELETING (DEGRADED and DELETE_FAILED are read as not ready).
struct Nodegroup {
  std::string nodegroupName;
  std::string version;
  std::string status;
  std::vector<std::string> instanceTypes;
  int desiredSize = 0;
  std::map<std::string, std::string> labels;
};

// DescribeAddon → addon.{addonName, addonVersion, status}; status ACTIVE or UPDATING.
struct Addon {
  std::string addonName;
  std::string addonVersion;
  std::string status;
};

class EksControl {
 public:
  virtual ~EksControl() = default;
  virtual Cluster describe_cluster() = 0;
  // UpdateClusterVersion {version, clientRequestToken} → update.id. A repeat
  // with the same token is the same update.
  virtual std::string update_cluster_version(const std::string& version, const std::string& clientRequestToken) = 0;
  virtual std::vector<std::string> list_nodegroups() = 0;
  // nullopt: ResourceNotFoundException.
  virtual std::optional<Nodegroup> describe_nodegroup(const std::string& nodegroupName) = 0;
  virtual void create_nodegroup(const CreateNodegroupRequest& request) = 0;
  virtual void delete_nodegroup(const std::string& nodegroupName) = 0;
  virtual std::optional<Addon> describe_addon(const std::string& addonName) = 0;
  // UpdateAddon {addonName, addonVersion, clientRequestToken}.
  virtual void update_addon(const std::string& addonName, const std::string& addonVersion,
                            const std::string& clientRequestToken) = 0;
};

}  // namespace byoc::plan::upgrade
