// kube::Client: a small client of the Kubernetes API over HTTPS — server-side
// apply, strategic merge patch, get, delete and list of the kinds resources.h
// knows, and pod eviction. It trusts
// exactly the cluster's CA (an EKS cluster's comes from DescribeCluster) and
// authenticates with a bearer token asked of a provider for every attempt
// (an EKS token lasts 15 minutes: the provider caches and refreshes it); a
// 401 asks the provider once more and tries once more, for a token that
// expired in flight.
//
// Throttling (429), server faults (500, 502, 503, 504), an apply's conflict
// (409: an object changed under a concurrent write) and connections that got
// no answer are retried with exponential backoff and jitter, honouring
// Retry-After, bounded in attempts and in total wait; every operation here
// is idempotent, so a retry does no harm. Other answers are not retried:
// the API's Status becomes an ApiError. No message ever holds the token.
//
// A watch is one long request, never retried here: its caller (an informer)
// resumes it from the last resourceVersion it saw, or lists again.
//
// Not thread-safe (one connection, reused): one client per thread or task.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/error.h"
#include "kube/resources.h"

namespace byoc::http {
class Client;
struct Request;
}

namespace byoc::kube {

struct RetryLimits {
  int max_attempts = 5;                         // in all, the first included
  std::chrono::milliseconds base{250};          // the first backoff's ceiling
  std::chrono::milliseconds max_backoff{8'000}; // one backoff's ceiling
  // No retry waits past this in all; a Retry-After beyond it ends the call
  // (kUnavailable) rather than being cut short.
  std::chrono::milliseconds max_total_wait{30'000};
};

struct ClientConfig {
  std::string server;  // https://HOST[:PORT], no path
  std::string ca_pem;  // the cluster's CA: the only one trusted
  // The bearer token, asked for every attempt; or none when a client
  // certificate authenticates instead (a kubeconfig may give either).
  std::function<std::string()> token;
  std::string client_cert_pem;  // with client_key_pem: mutual TLS
  std::string client_key_pem;
  std::string field_manager = "byoc";
  std::chrono::milliseconds timeout{30'000};  // per attempt
  RetryLimits retry;
  // How a retry waits; by default it sleeps. Tests record instead.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Uniform in [0, 1): the backoff's jitter; random by default.
  std::function<double()> jitter;
  // When set and it becomes true, a call in flight ends within ~100 ms
  // (kUnavailable) and no retry is waited for: a stopping owner's way out.
  const std::atomic<bool>* cancel = nullptr;
};

// An answer of the API server other than success, after the retries it
// deserved. Its byoc kind follows the HTTP status (403 kForbidden, 404
// kNotFound, 409 kConflict, 422 kInvalid, 429 and 5xx kUnavailable…); its
// code is "kube_" + the Status reason ("kube_Forbidden", "kube_AlreadyExists")
// or "kube_http_<status>" when the body was no Status.
class ApiError : public Error {
 public:
  ApiError(int status, std::string reason, const std::string& message, std::vector<std::string> causes = {});
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }  // "Forbidden", "Conflict", "Invalid"…
  // The Status's details.causes[].reason ("DisruptionBudget", "FieldValueInvalid"…):
  // what tells two answers of one status apart.
  const std::vector<std::string>& causes() const { return causes_; }

 private:
  int status_;
  std::string reason_;
  std::vector<std::string> causes_;
};

enum class Propagation { kBackground, kForeground };

// What the Eviction API answered (POST …/pods/NAME/eviction).
enum class EvictionOutcome {
  kEvicted,           // 201 (or 200): the pod is being deleted, gracefully
  kDisruptionBudget,  // refused by a PodDisruptionBudget (a Status with a DisruptionBudget cause)
  kNotFound,          // 404: no such pod
};

// A collection as of one moment: its items and the resourceVersion a watch
// resumes from.
struct ListResult {
  std::vector<nlohmann::json> items;
  std::string resource_version;
};

// One change a watch reports: ADDED, MODIFIED, DELETED (the object as it
// was), or BOOKMARK (only metadata.resourceVersion: nothing changed up to it).
struct WatchEvent {
  std::string type;
  const nlohmann::json& object;  // valid during the call
};

struct WatchOptions {
  std::string label_selector;  // "" for all
  std::string resource_version;  // from a list or the last event; required
  // The server ends the watch after this (timeoutSeconds); the connection
  // waits a little longer before it gives up on a silent server.
  std::chrono::seconds timeout{290};
  // Ends the watch within ~100 ms once true (a normal return).
  const std::atomic<bool>* cancel = nullptr;
};

// Answers larger than this end the call with kUnavailable.
inline constexpr size_t kMaxResponseBytes = 16 << 20;

class Client {
 public:
  // Throws byoc::Error kInvalid "kube_server_invalid" for a server URL that
  // is not https://HOST[:PORT], "kube_config_invalid" for a missing CA, or
  // neither a token provider nor a client certificate and key.
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Server-side apply (PATCH, application/apply-patch+yaml, force): byoc's
  // field manager takes the fields `object` sets. Returns the object as the
  // server has it now.
  nlohmann::json apply(const nlohmann::json& object);
  // nullopt when it doesn't exist.
  std::optional<nlohmann::json> get(const ObjectRef& ref);
  // Deletes; an object already gone is success. Foreground waits (server
  // side) for its dependents before it goes; Background lets them follow.
  void remove(const ObjectRef& ref, Propagation propagation = Propagation::kBackground);
  // A strategic merge patch (PATCH, application/strategic-merge-patch+json)
  // of the fields `patch` sets. Returns the object as the server has it now.
  // A patch carrying metadata.resourceVersion applies only to that version:
  // otherwise it is an ApiError 409 (kConflict), not retried here — the
  // caller reads the object again and builds a new patch (a list without a
  // patch merge key, such as a node's spec.taints, is replaced whole).
  // `subresource` "status" patches the object's status (a pod's conditions).
  nlohmann::json strategic_merge_patch(const ObjectRef& ref, const nlohmann::json& patch,
                                       const std::string& subresource = "");
  // Evicts a pod through the Eviction API (policy/v1), which honours its
  // PodDisruptionBudgets. A budget's refusal (429, or 403 while the budget's
  // status is being fixed, both with a DisruptionBudget cause) is an answer,
  // not retried; an API server's own throttling (429 without that cause) is
  // retried as any 429 is, then an ApiError.
  EvictionOutcome evict(const std::string& namespace_name, const std::string& pod_name);
  // The objects of a kind in a namespace ("" for every namespace of a
  // namespaced kind) matching `label_selector` and `field_selector` ("" for
  // all; "spec.nodeName=NODE"), every page; each with its apiVersion and
  // kind filled in.
  std::vector<nlohmann::json> list(const std::string& api_version, const std::string& kind,
                                   const std::string& namespace_name, const std::string& label_selector = "",
                                   const std::string& field_selector = "");
  // The same, with the collection's resourceVersion.
  ListResult list_with_version(const std::string& api_version, const std::string& kind,
                               const std::string& namespace_name, const std::string& label_selector = "",
                               const std::string& field_selector = "");
  // Watches a collection from options.resource_version, handing each event
  // (apiVersion and kind filled in) to `on_event` as it arrives, until the
  // server ends the watch, `cancel` is set, or on_event returns false.
  // Returns the resourceVersion to resume from: the last event's or
  // bookmark's, else the one given. A version the server no longer has is
  // an ApiError of status 410 (kGone), whether it came as the answer's
  // status or as an ERROR event: the caller lists again. One attempt, no
  // retry; one event is at most kMaxResponseBytes.
  std::string watch(const std::string& api_version, const std::string& kind, const std::string& namespace_name,
                    const WatchOptions& options, const std::function<bool(const WatchEvent&)>& on_event);

 private:
  struct Answer;
  enum class OnConflict { kFail, kRetry };
  Answer send(const std::string& method, const std::string& path_and_query, const std::string& content_type,
              const std::string& body, const std::string& what, OnConflict on_conflict = OnConflict::kFail);
  // The request of one attempt, with the token `token` ("" for none).
  http::Request request(const std::string& method, const std::string& path_and_query, const std::string& content_type,
                        const std::string& body, const std::string& token) const;

  ClientConfig config_;
  std::unique_ptr<http::Client> http_;
};

}  // namespace byoc::kube
