// ServerList: the management plane's servers an agent may dial — those it
// was configured with (`byoc agent --server A,B`) and those the plane lists
// in its join and sync answers, the plane's first (at most 16). The list is
// kept in the state dir (servers.json, written atomically) so a restart
// starts from the newest one. The agent dials one at a time: the first is
// drawn at random, so the agents of a plane spread over its servers, and
// each failed call moves it on to the next, so the agents of a server that
// died spread over the others (the sync loop's backoff adds jitter).
//
// Not thread-safe: the sync loop owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace byoc::agent {

class ServerList {
 public:
  // `configured`: https://HOST:PORT, at least one. `file`: where the list is
  // kept (read if it exists).
  ServerList(std::vector<std::string> configured, std::filesystem::path file, uint64_t seed);

  const std::string& current() const { return servers_[index_]; }
  const std::vector<std::string>& all() const { return servers_; }
  // The call to current() failed: the next one is current now.
  void failed();
  // The plane's list from an answer (empty: no news). Keeps dialling the
  // current server if it is still listed; returns true if current() changed.
  bool update(const std::vector<std::string>& plane);

 private:
  void save() const;
  std::vector<std::string> configured_;
  std::filesystem::path file_;
  std::vector<std::string> servers_;
  size_t index_ = 0;
};

}  // namespace byoc::agent
