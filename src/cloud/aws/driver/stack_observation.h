// What CloudFormation says of an environment's data-plane stack, read as the
// environment controller reads every cloud (cloud/driver.h's Observation).
// Pure: DescribeStacks' stack and DescribeStackEvents' events (as the AWS
// client parses them) in, an Observation out — so the AWS driver's observe()
// is these two calls and this function, and each status of the stack's life
// is pinned down by tests.
//
//   no stack, DELETE_COMPLETE                → nothing exists
//   *_IN_PROGRESS                            → exists, not ready (reason: the status, lower-cased),
//                                              and counted up to date: nothing else can be asked meanwhile
//   CREATE_COMPLETE, UPDATE_COMPLETE         → ready when up to date (the stack's byoc-spec tag)
//   ROLLBACK_COMPLETE, ROLLBACK_FAILED,
//   CREATE_FAILED                            → failed: rolled_back / create_failed
//   UPDATE_ROLLBACK_COMPLETE(_FAILED)        → failed: update_failed (the old stack still runs),
//                                              unless the old stack is what is wanted again (ready)
//   DELETE_FAILED                            → failed: delete_failed
//
// A failure's message names the resource that failed first in the stack's
// last operation and CloudFormation's reason for it; "not authorized" and
// "limit exceeded" reasons become access_denied and quota_exceeded.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cloud/driver.h"

namespace byoc::aws {

// The stack tag naming the environment spec a stack was made from.
inline constexpr const char* kSpecTag = "byoc-spec";

// `stack`: one member of DescribeStacks' Stacks (null: there is none);
// `events`: DescribeStackEvents' StackEvents, newest first, as AWS lists
// them; `spec`: the spec the environment wants now (compared with kSpecTag).
cloud::Observation observe_stack(const nlohmann::json& stack, const nlohmann::json& events, const std::string& spec);

}  // namespace byoc::aws
