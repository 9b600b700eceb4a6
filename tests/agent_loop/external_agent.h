// Agents joined to `external` environments of a test server with the agent's
// own join code (no runtime, no process): for tests of the agent channel.
#pragma once

#include <filesystem>
#include <string>

#include "../server/server_process.h"
#include "agent/join.h"

namespace byoc::agent_loop {

// Creates `external` environment `name` with `cidr` through the API, then
// joins it as join_agent() does. Throws std::runtime_error on a refusal.
agent::AgentIdentity join_external_agent(test::ServerProcess& server, const std::string& name,
                                         const std::string& cidr, const std::filesystem::path& state_dir);

// Gets a join token for environment `name` and joins with it, the agent's
// files in `state_dir` (created; the token file beside it).
agent::AgentIdentity join_agent(test::ServerProcess& server, const std::string& name,
                                const std::filesystem::path& state_dir);

}  // namespace byoc::agent_loop
