// The `external` cloud: the customer runs `byoc agent` wherever they like with
// a join token; the management plane provisions nothing, so the environment is
// ready as soon as it is stored and every action is accepted as asked. The
// machines are the customer's: once the environment is being deleted nothing
// of ours is left. Whether an agent is connected is the separate
// `agent_connected` condition.
#pragma once

#include "cloud/driver.h"

namespace byoc::cloud {

class ExternalDriver final : public CloudDriver {
 public:
  bool can_provision() const override { return true; }
  std::vector<std::string> provision_steps() const override { return {}; }
  Observation observe(const model::Environment& e) override {
    Observation o;
    o.exists = o.up_to_date = o.ready = e.state != model::kDeleting;
    o.last_token = e.cloud_token;
    return o;
  }
  std::string create(const model::Environment&, const std::string&) override { return ""; }
  void update(const model::Environment&, const std::string&) override {}
  void remove(const model::Environment&, const std::string&) override {}
};

}  // namespace byoc::cloud
