// The `aws` cloud: environments are accepted and stored; provisioning them
// (CloudFormation + EKS) is not part of this build, so they stay PENDING with
// the reason `driver_not_available`.
#pragma once

#include "cloud/driver.h"

namespace byoc::cloud {

class AwsDriver final : public CloudDriver {
 public:
  bool can_provision() const override { return false; }
  std::vector<std::string> provision_steps() const override { return {}; }
  Observation observe(const model::Environment&) override { return {false, false, "driver_not_available"}; }
  void create(const model::Environment&) override {}
  void remove(const model::Environment&) override {}
};

}  // namespace byoc::cloud
