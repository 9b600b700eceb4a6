// A stand-in Kubernetes API server for contract tests of code that drives
// the real API (server-side apply, get, list, watch, delete). It is the
// plane's own HTTPS listener on a free loopback port (FakeAws), holding
// objects in memory and answering in the API's shapes: the objects
// themselves, <Kind>List documents, newline-delimited watch events and Status
// objects for failures. Every request is recorded exactly as sent.
//
// What it keeps as the real API server does:
//  - one resourceVersion counter (a decimal string) for every object, bumped
//    by each change, and a log of the changes (ADDED, MODIFIED, DELETED) a
//    watch replays; a change that changes nothing (a re-apply of the same
//    object) keeps the version and logs nothing;
//  - metadata.uid and creationTimestamp set on creation and kept;
//    metadata.generation (for the kinds that have one: Deployment,
//    StatefulSet, DaemonSet, Job, PodDisruptionBudget, NetworkPolicy) 1 on
//    creation, bumped when spec changes;
//  - a watch filtered by a label selector sees an object that stops matching
//    as DELETED and one that starts matching as ADDED;
//  - an object with finalizers is not removed by DELETE: it gets
//    metadata.deletionTimestamp and stays until a writer (a test playing the
//    controller, through put()) clears its finalizers;
//  - list pages (limit + continue) whose token has been compacted away, and
//    watches from a compacted resourceVersion, are answered 410 Expired.
//
// Simplifications a runtime author must know:
//  - Apply is server-side apply without field-level ownership: per field
//    manager it remembers which top-level fields, metadata fields and
//    label/annotation keys that manager last applied. A re-apply replaces
//    each top-level field it sets (whole: nested fields other writers set,
//    such as a Service's spec.clusterIP, are lost), removes the ones the
//    same manager applied before and omits now, and leaves the rest (status
//    and what others wrote) alone. `status` in an applied body is ignored.
//    No conflict is ever detected (force or not): inject a 409 with
//    fail_next(). metadata.managedFields is never written (so an apply that
//    would change only ownership changes nothing). Bodies must be
//    JSON (the YAML the content type allows is not parsed). A 201 answers an
//    apply that created the object, a 200 one that updated it or did nothing.
//  - No controller runs: no Deployment makes Pods, no garbage collector
//    follows ownerReferences, deleting a Namespace leaves its objects,
//    propagationPolicy is recorded (deletions()) but changes nothing. Tests
//    play the controllers with put(), set_status() and remove_object().
//  - A watch is not a stream: it answers the logged events after its
//    resourceVersion at once (without resourceVersion or with "0": an ADDED
//    for each current object), then a BOOKMARK at the current version when
//    allowWatchBookmarks is asked for, then ends, as if timeoutSeconds had
//    passed. Nothing blocks; a test makes changes and watches again.
//  - A list reads the current objects (a later page sees changes made since
//    the first) and ignores resourceVersion/resourceVersionMatch; every page
//    carries the first page's metadata.resourceVersion.
//  - Label selectors: k=v, k==v, k!=v (true without k), k, !k, k in (a,b),
//    k notin (a,b). Field selectors: metadata.name and metadata.namespace
//    with =, ==, !=. Anything else is a 400.
//  - Only the kinds of src/kube/resources.cc are served (fake_kube_kinds()),
//    no subresources (…/scale) but a pod's status, whose conditions a
//    strategic merge patch merges by type (nothing else of it), and no POST,
//    PUT or plain PATCH (merge, JSON, strategic: 415). A namespace need not exist unless
//    set_namespaces_must_exist(true).
//  - Authentication: exactly "Authorization: Bearer " + kToken, else 401.
//    Request bodies over 1 MiB are refused (413) by the listener (the real
//    API takes about 3 MiB).
//
// Thread-safe: one mutex guards everything; the listener answers on one
// thread. A fail_next() matcher runs under that mutex: it must not call the
// fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "aws/fake_aws.h"
#include "base/http_client.h"
#include "kube/client.h"
#include "kube/resources.h"

namespace byoc::testing {

// A kind the fake serves: where its collection lives and how it behaves.
struct FakeKind {
  std::string api_version;  // "apps/v1"
  std::string kind;         // "Deployment"
  std::string plural;       // "deployments"
  bool namespaced;
  bool has_generation;      // metadata.generation tracks spec changes
};
// The kinds of src/kube/resources.cc (the fake's own copy; its test checks
// the two agree through the client's paths).
const std::vector<FakeKind>& fake_kube_kinds();

// How a watch from a compacted resourceVersion is answered.
enum class CompactAnswer {
  kHttpGone,    // HTTP 410 with a Status (reason Expired)
  kErrorEvent,  // HTTP 200 with one ERROR event whose object is that Status
};

// One DELETE the API received for an object (whether or not it existed).
struct RecordedDeletion {
  kube::ObjectRef ref;
  std::string propagation_policy;  // "Background", "Foreground", "Orphan" or ""
};

// A Kubernetes Status answer: {"kind":"Status","status":"Failure","code":…}
// with Content-Type application/json. Add a Retry-After to its headers for
// a throttling answer.
CannedResponse status_answer(int code, const std::string& reason, const std::string& message);

class FakeKubeApi {
 public:
  static constexpr const char* kToken = "fake-kube-token";

  FakeKubeApi();
  ~FakeKubeApi();
  FakeKubeApi(const FakeKubeApi&) = delete;
  FakeKubeApi& operator=(const FakeKubeApi&) = delete;

  std::string url() const;  // https://127.0.0.1:PORT
  const std::string& ca_pem() const;
  // A kube::Client configuration for this server: its URL and CA, the token
  // kToken, field manager "byoc", and retries that never really wait (the
  // waits are recorded in sleeps()) with jitter 0.5.
  kube::ClientConfig client_config();
  std::vector<std::chrono::milliseconds> sleeps() const;

  // One request sent as is (with the bearer token), for what kube::Client
  // doesn't send: raw watches, odd content types. `target` is a path and query.
  http::Response send_raw(const std::string& method, const std::string& target, const std::string& body = "",
                          const std::string& content_type = "");

  // --- The tests playing controllers and kubelets. ---
  // Creates or replaces `object` whole (apiVersion, kind, metadata.name and,
  // for a namespaced kind, metadata.namespace required), keeping uid and
  // creationTimestamp and minding generation as the API does; logs ADDED or
  // MODIFIED unless nothing changed. Clearing the finalizers of an object
  // being deleted removes it (DELETED). Returns the object as stored (or
  // nullopt when it went). Throws std::invalid_argument for an object of a
  // kind the fake doesn't serve or without a name.
  std::optional<nlohmann::json> put(nlohmann::json object);
  // Sets the object's status (MODIFIED when that changes it). Throws
  // std::out_of_range when there is no such object.
  nlohmann::json set_status(const kube::ObjectRef& ref, nlohmann::json status);
  // Removes the object at once, finalizers or not (DELETED). False when
  // there was none.
  bool remove_object(const kube::ObjectRef& ref);

  // --- What the API holds. ---
  std::optional<nlohmann::json> object(const kube::ObjectRef& ref) const;
  // The objects of a kind (by namespace, then name), of one namespace or ("") all.
  std::vector<nlohmann::json> objects(const std::string& kind, const std::string& namespace_name = "") const;
  std::string resource_version() const;  // the current one, "1" before any change

  // --- Behaviour. ---
  // Forgets the change log up to now: a watch from an older resourceVersion,
  // or a list page whose continue token is older, is answered 410 (a watch
  // as `answer` says).
  void compact(CompactAnswer answer = CompactAnswer::kHttpGone);
  // At most this many items per list page (and the client's limit, when
  // lower); 0: only the client's limit.
  void set_page_size(size_t items);
  // When true, creating a namespaced object in a Namespace the fake doesn't
  // hold is a 404 NotFound, as on a real cluster.
  void set_namespaces_must_exist(bool must);

  // The next `times` requests `match` accepts are answered `answer` instead,
  // changing nothing. Injections are tried in the order given.
  void fail_next(std::function<bool(const RecordedRequest&)> match, CannedResponse answer, int times = 1);

  // --- What was asked. ---
  std::vector<RecordedRequest> requests() const;  // in order, failed ones too
  void clear_requests();
  std::vector<RecordedDeletion> deletions() const;

 private:
  struct Route;
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // apiVersion, kind, namespace, name
  // One change, as the log keeps it for watches.
  struct Event {
    uint64_t resource_version;
    std::string type;  // ADDED, MODIFIED, DELETED
    Key key;
    nlohmann::json object;                   // as it became (DELETED: as it went)
    std::optional<nlohmann::json> previous;  // as it was before, for selector changes
  };
  // What one field manager last applied to one object: the fields a
  // re-apply that omits them removes.
  struct Ownership {
    std::set<std::string> fields;       // top level
    std::set<std::string> metadata;     // ownerReferences, finalizers…
    std::set<std::string> labels;
    std::set<std::string> annotations;
  };

  CannedResponse handle(const RecordedRequest& request);
  CannedResponse apply(const Route& route, const RecordedRequest& request);
  CannedResponse patch_pod_status(const Route& route, const RecordedRequest& request);
  CannedResponse get_object(const Route& route);
  CannedResponse list(const Route& route);
  CannedResponse watch(const Route& route);
  CannedResponse delete_object(const Route& route);
  CannedResponse delete_collection(const Route& route);

  // Server-set metadata of a write: uid, creationTimestamp and
  // deletionTimestamp kept from `previous` (or new), generation as spec says,
  // resourceVersion the previous one (until write() knows better).
  void settle_metadata(const FakeKind& kind, const nlohmann::json* previous, nlohmann::json& next);
  // Stores `next`: when it differs from what is stored, bumps the version,
  // logs ADDED or MODIFIED and returns it as stored; else returns the stored
  // object unchanged.
  nlohmann::json write(const Key& key, nlohmann::json next);
  // Removes the object, logging DELETED with `last_state` at a new version.
  void erase(const Key& key, nlohmann::json last_state);
  // DELETE of a stored object: removed, or marked for deletion while it has
  // finalizers. The object as it stays, or nullopt when it went.
  std::optional<nlohmann::json> delete_stored(const Key& key);
  std::string next_uid();

  mutable std::mutex mutex_;
  uint64_t resource_version_ = 1;
  uint64_t compacted_at_ = 0;  // events up to this version are forgotten
  CompactAnswer compact_answer_ = CompactAnswer::kHttpGone;
  size_t page_size_ = 0;
  bool namespaces_must_exist_ = false;
  uint64_t uids_ = 0;
  std::map<Key, nlohmann::json> objects_;
  std::map<Key, std::map<std::string, Ownership>> ownership_;  // by field manager
  std::vector<Event> events_;
  struct Injection {
    std::function<bool(const RecordedRequest&)> match;
    CannedResponse answer;
    int remaining;
  };
  std::vector<Injection> injections_;
  std::vector<RecordedRequest> requests_;
  std::vector<RecordedDeletion> deletions_;
  std::vector<std::chrono::milliseconds> sleeps_;
  // Last: it starts after everything its handler uses, and stops first.
  std::unique_ptr<FakeAws> server_;
};

// The bodies of the server-side apply requests (PATCH with
// application/apply-patch+yaml) among `requests`, parsed, in order (a body
// that is no JSON comes back discarded).
std::vector<nlohmann::json> applied_bodies(const std::vector<RecordedRequest>& requests);

// Checks `objects` against the Kubernetes 1.33 schemas (npm kubernetes-models,
// tests/kube-models/validate.js on Node): "" when they all validate, else
// what the check printed. Each object needs apiVersion, kind and metadata.name.
std::string kubernetes_models_failures(const std::vector<nlohmann::json>& objects);

}  // namespace byoc::testing
