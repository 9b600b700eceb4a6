// Joining: turns a single-use join token into the agent's long-lived
// identity. The agent first reads the server's certificate chain without
// sending anything, checks that it holds the CA whose SHA-256 the token
// carries, pins that CA, and only then sends the token with a CSR for a key
// it made itself (the key never leaves the state dir).
#pragma once

#include <filesystem>
#include <string>

#include "agent/server_list.h"

namespace byoc::agent {

struct AgentIdentity {
  std::string environment_id;
  std::string environment_name;
  std::string server_ca_pem;
  std::string key_pem;
  std::string certificate_pem;
};

// Loads the identity from `state_dir` if the agent has joined before,
// otherwise joins with the token from `token_file` or $BYOC_JOIN_TOKEN,
// through the first server of `servers` that can be reached (and takes the
// plane's list of servers from the answer). Throws byoc::Error with a
// readable message on any failure (kUnavailable when no server answered).
AgentIdentity load_or_join(const std::filesystem::path& state_dir, ServerList& servers,
                           const std::filesystem::path& token_file);
// The same through one server.
AgentIdentity load_or_join(const std::filesystem::path& state_dir, const std::string& server_url,
                           const std::filesystem::path& token_file);

}  // namespace byoc::agent
