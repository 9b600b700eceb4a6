// CloudDriver: how the management plane provisions the infrastructure of an
// environment in one cloud, after Crossplane's ExternalClient contract.
//
// - observe() never changes anything. It says whether the environment's
//   infrastructure exists, matches the environment (up to date), is ready,
//   or failed (with an enumerated reason), and when looking again is worth it.
// - create(), update() and remove() only ask the cloud: they return once the
//   request is accepted, never waiting for the work (a CloudFormation stack
//   takes 45 minutes). Each takes an idempotency token; repeating a call with
//   the same token changes nothing more, so a caller that crashed between
//   sending and recording may simply send again. The controller records the
//   token (and the action) before it calls, and the driver's handle (say a
//   stack id) as soon as it learns it.
// - Deletion is level-triggered: remove() is called on every pass until
//   observe() says nothing exists.
//
// A new cloud is a new folder with an implementation of this interface and a
// line in drivers.cc.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/objects.h"

namespace byoc::plan::upgrade {
class EksControl;
class KubeControl;
}  // namespace byoc::plan::upgrade

namespace byoc::cloud {

// Why the last action the cloud accepted failed (the API shows the code).
enum class Failure {
  kNone,
  kCreateFailed,      // creation failed and what was made is still there
  kRolledBack,        // creation failed and was rolled back
  kUpdateFailed,      // an update failed (and was rolled back)
  kDeleteFailed,      // the cloud could not delete everything
  kQuotaExceeded,     // an account limit stands in the way
  kAccessDenied,      // the role we act with may not do it
  kInvalidRequest,    // the cloud refused the request as given
};
// "create_failed", "rolled_back", ...; "" for kNone.
const char* failure_code(Failure failure);

struct Observation {
  bool exists = false;      // something of the environment's exists in the cloud
  bool up_to_date = false;  // it is what the last accepted action asked for
  bool ready = false;       // all of it exists and runs
  Failure failure = Failure::kNone;  // the last accepted action failed
  std::string reason;       // while not ready: an enumerated code (e.g. "create_in_progress")
  std::string message;      // the cloud's own words for a failure, when it gives any
  std::string handle;       // the driver's name for it (e.g. a stack id), once known
  std::string last_token;   // the token of the last action the cloud accepted ("" if none)
  std::map<std::string, std::string> outputs;  // what the cloud made, by name
  // While not ready: the provision step (provision_steps()) the work is at;
  // "": the last one.
  std::string step;
  // When observing again is worth it; zero: the controller's default.
  std::chrono::milliseconds look_again{0};
};

// The step of environment operations that waits on the customer's grant
// (clouds whose traits say customer_grants_access list it first).
inline constexpr const char* kCustomerAccessStep = "customer_access";

// The clients the Kubernetes upgrader (plan/upgrade/upgrader.h) drives one
// environment's cluster through: its managed-Kubernetes API and the
// cluster's own. Both live as long as this object; used by one thread.
class ClusterUpgradeClients {
 public:
  virtual ~ClusterUpgradeClients() = default;
  virtual plan::upgrade::EksControl& eks() = 0;
  virtual plan::upgrade::KubeControl& kube() = 0;
};

// Whether the management plane may act in the customer's account yet.
struct AccessCheck {
  bool granted = false;
  std::string reason;    // when not granted, enumerated: e.g. "account_id_missing", "permissions_missing"
  std::string message;   // what the customer is to do, in a line
  nlohmann::json details = nlohmann::json::object();  // what was checked and found, for the API
  // When checking again is worth it; zero: the controller's default.
  std::chrono::milliseconds look_again{0};
};

class CloudDriver {
 public:
  virtual ~CloudDriver() = default;
  // False for clouds whose provisioning this build doesn't do yet: their
  // environments are stored and stay PENDING.
  virtual bool can_provision() const = 0;
  // The operation steps this driver goes through after "store".
  virtual std::vector<std::string> provision_steps() const = 0;
  // `environment.cloud_handle` is the handle recorded so far (may be empty:
  // the driver then finds its resources by the environment's id).
  virtual Observation observe(const model::Environment& environment) = 0;
  // Asks for what the environment needs; returns the handle when the cloud
  // gives one at once, else "". With a failed creation in place and a new
  // token, replaces it.
  virtual std::string create(const model::Environment& environment, const std::string& token) = 0;
  // Asks the cloud to make what exists match the environment.
  virtual void update(const model::Environment& environment, const std::string& token) = 0;
  // Asks the cloud to remove everything the environment owns; called again
  // on every pass until observe() finds nothing.
  virtual void remove(const model::Environment& environment, const std::string& token) = 0;
  // Onboarding (clouds whose traits say customer_grants_access): fills in
  // what the customer needs to let the plane in, derived from the fields
  // they gave (aws: the ExternalId, once, then the role ARN and the quick-
  // create link). Pure; called when an environment is created and when its
  // account changes.
  virtual void onboard(model::Environment&) const {}
  // Checks, read-only, that the customer's grant is in place and enough.
  // May call the cloud (blocking, bounded); never throws for what the
  // cloud answers: a failure is a check not granted, with its reason.
  virtual AccessCheck check_access(const model::Environment&) {
    AccessCheck granted;
    granted.granted = true;
    return granted;
  }
  // Clouds whose traits name a kubernetes_version: the clients a Kubernetes
  // upgrade of the environment's cluster goes through (made afresh for each
  // run; may call the cloud to find the cluster, and throw if it can't).
  // nullptr for clouds without a cluster the plane upgrades.
  virtual std::unique_ptr<ClusterUpgradeClients> cluster_upgrade_clients(const model::Environment&) {
    return nullptr;
  }
  // Called once when the server stops.
  virtual void shutdown() {}
};

}  // namespace byoc::cloud
