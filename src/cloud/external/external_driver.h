// The `external` cloud: the customer runs `byoc agent` wherever they like with
// a join token; the management plane provisions nothing, so the environment is
// ready as soon as it is stored. Whether an agent is connected is the separate
// `agent_connected` condition.
#pragma once

#include "cloud/driver.h"

namespace byoc::cloud {

class ExternalDriver final : public CloudDriver {
 public:
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {}; }
  Observation observe(const model::Environment&) override { return {true, true, ""}; }
  void create(const model::Environment&) override {}
  void remove(const model::Environment&) override {}
};

}  // namespace byoc::cloud
