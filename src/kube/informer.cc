#include "kube/informer.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "kube/client.h"

namespace byoc::kube {
namespace {

using nlohmann::json;

std::string name_of(const json& object) {
  const json* meta = object.contains("metadata") && object["metadata"].is_object() ? &object["metadata"] : nullptr;
  if (!meta || !meta->contains("name") || !(*meta)["name"].is_string()) return "";
  return (*meta)["name"];
}

}  // namespace

Informer::Informer(InformerOptions options) : options_(std::move(options)) {}
Informer::~Informer() = default;

void Informer::replace_all(std::vector<json> items, const std::string& version) {
  if (items.size() > options_.max_objects)
    throw Error::Unavailable("kubernetes list " + options_.kind + ": more than " + std::to_string(options_.max_objects) +
                             " objects");
  std::map<std::string, json> fresh;
  for (auto& item : items)
    if (std::string name = name_of(item); !name.empty()) fresh[name] = std::move(item);
  std::lock_guard lock(mu_);
  objects_.swap(fresh);
  resource_version_ = version;
  listed_ = true;
  ++lists_;
}

bool Informer::sync(Client& client, const std::atomic<bool>* cancel) {
  std::string version = resource_version();
  if (version.empty()) {
    ListResult list = client.list_with_version(options_.api_version, options_.kind, options_.namespace_name,
                                               options_.label_selector);
    if (list.resource_version.empty())
      throw Error::Unavailable("kubernetes list " + options_.kind + ": the answer has no resourceVersion to watch from");
    replace_all(std::move(list.items), list.resource_version);
    return true;
  }
  WatchOptions watch;
  watch.label_selector = options_.label_selector;
  watch.resource_version = version;
  watch.timeout = options_.watch_timeout;
  watch.cancel = cancel;
  bool changed = false;
  try {
    std::string last = client.watch(options_.api_version, options_.kind, options_.namespace_name, watch,
                                    [&](const WatchEvent& event) {
                                      std::string name = name_of(event.object);
                                      std::lock_guard lock(mu_);
                                      if (event.type == "ADDED" || event.type == "MODIFIED") {
                                        if (name.empty()) return true;
                                        if (!objects_.count(name) && objects_.size() >= options_.max_objects) {
                                          resource_version_.clear();  // too many: a list says so
                                          return false;
                                        }
                                        objects_[name] = event.object;
                                        changed = true;
                                      } else if (event.type == "DELETED") {
                                        changed = objects_.erase(name) > 0 || changed;
                                      }
                                      return true;
                                    });
    std::lock_guard lock(mu_);
    if (!resource_version_.empty()) resource_version_ = last;
  } catch (const ApiError& e) {
    if (e.status() != 410) throw;
    spdlog::info("kubernetes watch {}: version {} is gone; listing again", options_.kind, version);
    std::lock_guard lock(mu_);
    resource_version_.clear();
  }
  return changed;
}

bool Informer::listed() const {
  std::lock_guard lock(mu_);
  return listed_;
}

std::vector<json> Informer::objects() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  out.reserve(objects_.size());
  for (const auto& [name, object] : objects_) out.push_back(object);
  return out;
}

std::optional<json> Informer::object(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(name);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::string Informer::resource_version() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

uint64_t Informer::lists() const {
  std::lock_guard lock(mu_);
  return lists_;
}

}  // namespace byoc::kube
