// The `aws` cloud: environments are accepted and stored; provisioning them
// (CloudFormation + EKS) is not part of this build, so they stay PENDING with
// the reason `driver_not_available`, and deleting one has nothing to remove.
#pragma once

#include "cloud/driver.h"

namespace byoc::cloud {

class AwsDriver final : public CloudDriver {
 public:
  bool can_provision() const override { return false; }
  std::vector<std::string> provision_steps() const override { return {}; }
  Observation observe(const model::Environment&) override {
    Observation o;
    o.reason = "driver_not_available";
    return o;
  }
  std::string create(const model::Environment&, const std::string&) override { return ""; }
  void update(const model::Environment&, const std::string&) override {}
  void remove(const model::Environment&, const std::string&) override {}
};

}  // namespace byoc::cloud
