// What an aws environment's data-plane stack should be, derived from the
// environment alone (pure): the stack's name, its template, its tags (byoc,
// the environment, and byoc-spec: a digest of the template, which observe
// compares to tell an up-to-date stack from one to update), and the
// pre-flight it needs first.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud/aws/driver/driver_options.h"
#include "cloud/aws/driver/node_groups.h"
#include "cloud/aws/preflight.h"
#include "model/objects.h"

namespace byoc::aws {

// CloudFormation takes a template body of at most this many bytes.
inline constexpr size_t kMaxTemplateBody = 51'200;

struct StackSpec {
  std::string stack_name;
  std::string template_body;  // compact JSON
  std::string digest;         // the byoc-spec tag's value
  nlohmann::json tags;        // [{Key, Value}]
};

// Throws byoc::Error kInvalid naming the field when the environment can't
// have a stack (say, a name longer than a stack's resources allow, no
// BYOC_AWS_API_ALLOWED_CIDRS, a template over kMaxTemplateBody).
StackSpec stack_spec(const model::Environment& environment, const AwsDriverOptions& options);

// The EKS node groups the environment's cluster should have (the driver's,
// not the stack's: node_groups.h).
std::vector<NodeGroupSpec> environment_node_groups(const model::Environment& environment);

// The pre-flight of the environment's account for that stack.
PreflightRequest preflight_request(const model::Environment& environment, const std::string& session_name);

// The role the plane acts as in the customer's account ("" before the
// customer's account id is known).
std::string role_arn_of(const model::Environment& environment);

}  // namespace byoc::aws
