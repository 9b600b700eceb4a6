// The AWS services byoc calls, each with its model: src/cloud/aws/models/*.json
// (trimmed by scripts/trim-aws-models.py), embedded in the binary at build time.
#pragma once

#include <string_view>

#include "cloud/aws/model.h"

namespace byoc::aws {

enum class Service { kSts, kIam, kCloudFormation, kEc2, kEks, kServiceQuotas, kElasticLoadBalancingV2 };

// Parsed once, on first use; thread-safe.
const ServiceModel& model_of(Service service);
// The embedded JSON text, for tests and `byoc aws` diagnostics.
std::string_view model_text(Service service);

}  // namespace byoc::aws
