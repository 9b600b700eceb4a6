// Informer: a local copy of one collection — a kind in a namespace under a
// label selector — kept current the way client-go's reflector keeps its
// cache: list once (which says the collection's resourceVersion), then watch
// from that version, applying each event; resume each next watch from the
// last version seen (bookmarks included); when the server no longer has
// that version (410 Gone, as an answer or as an ERROR event) list again.
//
// sync() does one step (one list, or one watch until the server ends it)
// on the caller's thread with the caller's client; the copy can be read
// from any thread meanwhile. Failures other than 410 are the caller's to
// back off from: the informer keeps its copy and its version, so the next
// sync() resumes where it was.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace byoc::kube {

class Client;

struct InformerOptions {
  std::string api_version;  // "apps/v1"
  std::string kind;         // "StatefulSet"
  std::string namespace_name;
  std::string label_selector;  // "" for all
  std::chrono::seconds watch_timeout{290};
  // A collection larger than this is refused (the copy is held in memory).
  size_t max_objects = 10'000;
};

class Informer {
 public:
  explicit Informer(InformerOptions options);
  ~Informer();

  // One step with `client` (used by this thread only while it runs): a list
  // when there is no version to resume from, else one watch. Returns true
  // when the copy may have changed. Throws what the client throws, except
  // 410 Gone, which only makes the next step a list.
  bool sync(Client& client, const std::atomic<bool>* cancel = nullptr);

  bool listed() const;  // true once a list succeeded
  std::vector<nlohmann::json> objects() const;  // by name
  std::optional<nlohmann::json> object(const std::string& name) const;
  std::string resource_version() const;  // "" before the first list or after a 410
  uint64_t lists() const;  // lists done, the first included

  const InformerOptions& options() const { return options_; }

 private:
  void replace_all(std::vector<nlohmann::json> items, const std::string& version);

  const InformerOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> objects_;  // by metadata.name
  std::string resource_version_;
  bool listed_ = false;
  uint64_t lists_ = 0;
};

}  // namespace byoc::kube
