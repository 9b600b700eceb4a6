// What servers of one plane tell each other through the store (store.h:
// Transaction::publish), each a topic and a one-line message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace byoc::model::topics {

// An environment's desired state has a new revision: its waiting agents wake.
// Message: "<environment id> <revision>".
inline constexpr const char* kRevision = "revision";
// An environment is gone: whatever a server keeps for it can go. Message: its id.
inline constexpr const char* kEnvironmentDeleted = "environment_deleted";
// A server joined or left the plane: the others re-read the plane's servers
// (and hand agents the new list). Message: its id.
inline constexpr const char* kServers = "servers";

inline std::string revision_message(const std::string& environment_id, int64_t revision) {
  return environment_id + " " + std::to_string(revision);
}

inline std::optional<std::pair<std::string, int64_t>> parse_revision_message(const std::string& message) {
  auto space = message.find(' ');
  if (space == std::string::npos || space == 0) return std::nullopt;
  try {
    size_t used = 0;
    int64_t revision = std::stoll(message.substr(space + 1), &used);
    if (used != message.size() - space - 1) return std::nullopt;
    return std::make_pair(message.substr(0, space), revision);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace byoc::model::topics
