#include "agent/server_list.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "base/error.h"
#include "base/files.h"
#include "model/protocol.h"

namespace byoc::agent {
namespace {

// `first`, then those of `always` not in it: at most kMaxPlaneServers, with
// room kept for every one of `always` (the configured servers).
std::vector<std::string> merged(const std::vector<std::string>& first, const std::vector<std::string>& always) {
  std::vector<std::string> out;
  auto has = [&](const std::string& url) { return std::find(out.begin(), out.end(), url) != out.end(); };
  size_t room = model::kMaxPlaneServers - std::min(always.size(), model::kMaxPlaneServers);
  for (const auto& url : first)
    if (out.size() < room && !has(url)) out.push_back(url);
  for (const auto& url : always)
    if (out.size() < model::kMaxPlaneServers && !has(url)) out.push_back(url);
  return out;
}

}  // namespace

ServerList::ServerList(std::vector<std::string> configured, std::filesystem::path file, uint64_t seed)
    : configured_(std::move(configured)), file_(std::move(file)) {
  if (configured_.empty()) throw Error::Invalid("invalid_server", "at least one server URL is needed", "server");
  std::vector<std::string> kept;
  if (auto text = files::read_if_exists(file_)) {
    try {
      for (const auto& url : nlohmann::json::parse(*text))
        if (url.is_string() && model::is_https_endpoint(url.get<std::string>())) kept.push_back(url);
    } catch (const std::exception& e) {
      spdlog::warn("ignoring an unreadable {}: {}", file_.string(), e.what());
    }
  }
  servers_ = merged(kept, configured_);
  index_ = std::uniform_int_distribution<size_t>(0, servers_.size() - 1)(*std::make_unique<std::mt19937_64>(seed));
}

void ServerList::failed() { index_ = (index_ + 1) % servers_.size(); }

bool ServerList::update(const std::vector<std::string>& plane) {
  if (plane.empty()) return false;
  std::vector<std::string> next = merged(plane, configured_);
  if (next == servers_) return false;
  std::string dialled = current();
  servers_ = std::move(next);
  auto it = std::find(servers_.begin(), servers_.end(), dialled);
  bool moved = it == servers_.end();
  index_ = moved ? 0 : static_cast<size_t>(it - servers_.begin());
  save();
  spdlog::info("management plane servers: {}", nlohmann::json(servers_).dump());
  return moved;
}

void ServerList::save() const {
  try {
    files::write_atomic(file_, nlohmann::json(servers_).dump(), 0600);
  } catch (const std::exception& e) {
    spdlog::warn("cannot keep the server list in {}: {}", file_.string(), e.what());
  }
}

}  // namespace byoc::agent
