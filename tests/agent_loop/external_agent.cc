#include "external_agent.h"

#include <stdexcept>

#include "base/files.h"

namespace byoc::agent_loop {

agent::AgentIdentity join_external_agent(test::ServerProcess& server, const std::string& name,
                                         const std::string& cidr, const std::filesystem::path& state_dir) {
  auto [status, op] = server.call("POST", "/v1/environments", {{"name", name}, {"cloud", "external"}, {"cidr", cidr}});
  if (status != 202) throw std::runtime_error("environment create answered " + op.dump());
  return join_agent(server, name, state_dir);
}

agent::AgentIdentity join_agent(test::ServerProcess& server, const std::string& name,
                                const std::filesystem::path& state_dir) {
  auto [status, token] = server.call("POST", "/v1/environments/" + name + "/join-tokens", nlohmann::json::object());
  if (status != 201) throw std::runtime_error("join token answered " + token.dump());
  files::ensure_dir(state_dir, 0700);
  std::filesystem::path token_file = state_dir.string() + ".token";
  files::write_atomic(token_file, token["token"].get<std::string>(), 0600);
  return agent::load_or_join(state_dir, server.url(), token_file);
}

}  // namespace byoc::agent_loop
