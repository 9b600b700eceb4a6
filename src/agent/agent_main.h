// Entry point of `byoc agent`: the data plane's agent for one environment.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace byoc::agent {

struct AgentOptions {
  std::filesystem::path state_dir;  // created 0700; holds keys, cached desired state, services
  // https://HOST:PORT of the management plane's servers (one or more; the
  // plane's answers tell the agent of the others).
  std::vector<std::string> server_urls;
  // The join token comes from this file or $BYOC_JOIN_TOKEN, never argv. Only
  // needed for the first start; afterwards the agent's certificate is used.
  std::filesystem::path join_token_file;
  std::string runtime = "local";  // how services run: a name of runtimes/registry.h
  std::map<std::string, std::string> runtime_settings;  // `--runtime-option KEY=VALUE`
};

// Runs until SIGINT/SIGTERM (then stops its services in order). If another
// agent holds the state dir's lock, returns 0 at once (a second start is a no-op).
int run_agent(const AgentOptions& options);

}  // namespace byoc::agent
