// CloudDriver: how the management plane provisions the infrastructure of an
// environment in one cloud. The environment controller calls it in
// Observe → Create | Delete style; every call is idempotent and may be
// repeated after a crash at any point. A new cloud is a new folder with a
// new implementation of this interface, registered in drivers.cc.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/objects.h"

namespace byoc::cloud {

struct Observation {
  bool exists = false;  // some of the infrastructure exists
  bool ready = false;   // all of it exists and runs
  std::string reason;   // enumerated code when not ready
};

class CloudDriver {
 public:
  virtual ~CloudDriver() = default;
  // False for clouds whose provisioning this build doesn't do yet: their
  // environments are stored and stay PENDING.
  virtual bool can_provision() const = 0;
  // The operation steps this driver goes through after "store".
  virtual std::vector<std::string> provision_steps() const = 0;
  virtual Observation observe(const model::Environment& environment) = 0;
  // Creates what is missing. May return before it is all ready.
  virtual void create(const model::Environment& environment) = 0;
  // Removes everything the environment owns; a no-op when nothing is left.
  virtual void remove(const model::Environment& environment) = 0;
  // Called once when the server stops.
  virtual void shutdown() {}
};

}  // namespace byoc::cloud
