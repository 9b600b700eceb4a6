#include "fake_kube_api.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <stdexcept>

#include "base/clock.h"
#include "base/crypto.h"
#include "base/files.h"
#include "base/percent.h"
#include "base/process.h"
#include "testing/testing.h"

#ifndef BYOC_KUBE_MODELS_VALIDATE
#error "BYOC_KUBE_MODELS_VALIDATE must name tests/kube-models/validate.js (set in tests/kube-runtime/CMakeLists.txt)"
#endif

namespace byoc::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kApplyPatch = "application/apply-patch+yaml";

CannedResponse json_answer(int status, const json& body) {
  return {status, {{"Content-Type", "application/json"}}, body.dump()};
}

json status_json(int code, const std::string& reason, const std::string& message, json details = nullptr) {
  json status = {{"kind", "Status"},   {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason},
                 {"code", code}};
  if (!details.is_null()) status["details"] = std::move(details);
  return status;
}

CannedResponse status_with_details(int code, const std::string& reason, const std::string& message, json details) {
  return json_answer(code, status_json(code, reason, message, std::move(details)));
}

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// "deployments.apps", "secrets": how the API names a resource in messages.
std::string qualified_resource(const FakeKind& kind) {
  std::string group = group_of(kind.api_version);
  return kind.plural + (group.empty() ? "" : "." + group);
}

CannedResponse not_found(const FakeKind& kind, const std::string& name) {
  return status_with_details(404, "NotFound", qualified_resource(kind) + " \"" + name + "\" not found",
                             {{"name", name}, {"group", group_of(kind.api_version)}, {"kind", kind.plural}});
}

CannedResponse bad_request(const std::string& message) { return status_answer(400, "BadRequest", message); }

const FakeKind* find_kind(const std::string& api_version, const std::string& kind) {
  for (const auto& k : fake_kube_kinds())
    if (k.api_version == api_version && k.kind == kind) return &k;
  return nullptr;
}

const FakeKind* find_kind_by_plural(const std::string& api_version, const std::string& plural) {
  for (const auto& k : fake_kube_kinds())
    if (k.api_version == api_version && k.plural == plural) return &k;
  return nullptr;
}

const FakeKind* find_kind_by_name(const std::string& kind) {
  for (const auto& k : fake_kube_kinds())
    if (k.kind == kind) return &k;
  return nullptr;
}

std::string trim(std::string_view text) {
  size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(start, end - start + 1));
}

// Splits at commas outside parentheses ("a=b,c in (x,y)" → 2 terms).
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> terms;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  terms.push_back(current);
  return terms;
}

std::string string_at(const json& object, const char* pointer) {
  json::json_pointer p(pointer);
  return object.contains(p) && object.at(p).is_string() ? object.at(p).get<std::string>() : "";
}

const json* labels_of(const json& object) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) return nullptr;
  const json& metadata = object["metadata"];
  return metadata.contains("labels") && metadata["labels"].is_object() ? &metadata["labels"] : nullptr;
}

// A label selector's requirements, all of which an object must meet.
struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kExists, kNotExists, kIn, kNotIn };
  std::string key;
  Op op;
  std::set<std::string> values;

  bool matches(const json& object) const {
    const json* labels = labels_of(object);
    const json* value = labels && labels->contains(key) && (*labels)[key].is_string() ? &(*labels)[key] : nullptr;
    switch (op) {
      case Op::kExists: return value != nullptr;
      case Op::kNotExists: return value == nullptr;
      case Op::kEquals:
      case Op::kIn: return value && values.count(value->get<std::string>()) > 0;
      case Op::kNotEquals:
      case Op::kNotIn: return !value || values.count(value->get<std::string>()) == 0;
    }
    return false;
  }
};

bool is_selector_key(const std::string& key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

// nullopt for a selector the API would refuse.
std::optional<std::vector<LabelRequirement>> parse_label_selector(const std::string& text) {
  std::vector<LabelRequirement> requirements;
  if (trim(text).empty()) return requirements;
  using Op = LabelRequirement::Op;
  for (const std::string& raw : split_terms(text)) {
    std::string term = trim(raw);
    LabelRequirement r;
    if (auto open = term.find('('); open != std::string::npos) {  // key in (a,b) / key notin (a,b)
      if (term.back() != ')') return std::nullopt;
      std::string head = trim(std::string_view(term).substr(0, open));
      auto space = head.find_last_of(" \t");
      if (space == std::string::npos) return std::nullopt;
      std::string word = head.substr(space + 1);
      r.key = trim(std::string_view(head).substr(0, space));
      if (word == "in") r.op = Op::kIn;
      else if (word == "notin") r.op = Op::kNotIn;
      else return std::nullopt;
      std::string inside = term.substr(open + 1, term.size() - open - 2);
      for (size_t start = 0;;) {
        size_t comma = inside.find(',', start);
        std::string value = trim(std::string_view(inside).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!kube::is_label_value(value)) return std::nullopt;
        r.values.insert(value);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (auto ne = term.find("!="); ne != std::string::npos) {
      r.key = trim(std::string_view(term).substr(0, ne));
      r.op = Op::kNotEquals;
      r.values.insert(trim(std::string_view(term).substr(ne + 2)));
    } else if (auto eq = term.find('='); eq != std::string::npos) {
      r.key = trim(std::string_view(term).substr(0, eq));
      r.op = Op::kEquals;
      size_t value_at = term.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;
      r.values.insert(trim(std::string_view(term).substr(value_at)));
    } else if (!term.empty() && term[0] == '!') {
      r.key = trim(std::string_view(term).substr(1));
      r.op = Op::kNotExists;
    } else {
      r.key = term;
      r.op = Op::kExists;
    }
    if (!is_selector_key(r.key)) return std::nullopt;
    for (const auto& value : r.values)
      if (!kube::is_label_value(value)) return std::nullopt;
    requirements.push_back(std::move(r));
  }
  return requirements;
}

struct FieldRequirement {
  std::string pointer;  // "/metadata/name"
  bool equals;
  std::string value;
  bool matches(const json& object) const { return (string_at(object, pointer.c_str()) == value) == equals; }
};

// Only metadata.name and metadata.namespace, as most kinds allow; the
// message when the API would refuse it.
std::vector<FieldRequirement> parse_field_selector(const std::string& text, std::string& error) {
  std::vector<FieldRequirement> requirements;
  if (trim(text).empty()) return requirements;
  for (const std::string& raw : split_terms(text)) {
    std::string term = trim(raw);
    FieldRequirement r;
    size_t op = term.find("!=");
    size_t value_at;
    if (op != std::string::npos) {
      r.equals = false;
      value_at = op + 2;
    } else if ((op = term.find('=')) != std::string::npos) {
      r.equals = true;
      value_at = term.compare(op, 2, "==") == 0 ? op + 2 : op + 1;
    } else {
      error = "invalid field selector: '" + term + "': no operator";
      return {};
    }
    std::string field = trim(std::string_view(term).substr(0, op));
    r.value = trim(std::string_view(term).substr(value_at));
    if (field == "metadata.name") r.pointer = "/metadata/name";
    else if (field == "metadata.namespace") r.pointer = "/metadata/namespace";
    else {
      error = "field label not supported: " + field;
      return {};
    }
    requirements.push_back(std::move(r));
  }
  return requirements;
}

struct Selector {
  std::vector<LabelRequirement> labels;
  std::vector<FieldRequirement> fields;
  bool empty() const { return labels.empty() && fields.empty(); }
  bool matches(const json& object) const {
    return std::all_of(labels.begin(), labels.end(), [&](const auto& r) { return r.matches(object); }) &&
           std::all_of(fields.begin(), fields.end(), [&](const auto& r) { return r.matches(object); });
  }
};

bool is_map_of_strings(const json& value) {
  return value.is_object() &&
         std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); });
}

bool has_finalizers(const json& object) {
  return object.contains("metadata") && object["metadata"].contains("finalizers") &&
         object["metadata"]["finalizers"].is_array() && !object["metadata"]["finalizers"].empty();
}

bool being_deleted(const json& object) {
  return object.contains("metadata") && object["metadata"].contains("deletionTimestamp");
}

std::string now_rfc3339() {
  return format_rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

// Metadata only the server writes: an apply neither sets nor removes them.
bool is_server_metadata(const std::string& field) {
  static const std::set<std::string> kServerSet = {
      "name",          "namespace",         "uid",          "resourceVersion", "generation",
      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink",
      "labels",        "annotations"};  // labels and annotations: merged key by key instead
  return kServerSet.count(field) > 0;
}

// The continue token of a list page: the list's version and the last key
// given, opaque to the client as the API's are.
std::string continue_token(uint64_t resource_version, const std::string& namespace_name, const std::string& name) {
  return crypto::base64(std::to_string(resource_version) + "/" + namespace_name + "/" + name);
}

struct ContinuePoint {
  uint64_t resource_version;
  std::string namespace_name;
  std::string name;
};

std::optional<ContinuePoint> parse_continue(const std::string& token) {
  auto text = crypto::base64_decode(token);
  if (!text) return std::nullopt;
  auto first = text->find('/');
  auto second = first == std::string::npos ? std::string::npos : text->find('/', first + 1);
  if (second == std::string::npos) return std::nullopt;
  std::string version = text->substr(0, first);
  if (version.empty() || version.size() > 19 ||
      !std::all_of(version.begin(), version.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return ContinuePoint{std::stoull(version), text->substr(first + 1, second - first - 1), text->substr(second + 1)};
}

std::optional<uint64_t> parse_version(const std::string& text) {
  if (text.empty() || text.size() > 19 ||
      !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::stoull(text);
}

// The request's labelSelector and fieldSelector into `out`; the API's 400
// when one can't be read.
std::optional<CannedResponse> read_selector(const std::string& label_param, const std::string& field_param,
                                            Selector& out) {
  auto labels = parse_label_selector(label_param);
  if (!labels) return bad_request("unable to parse requirement: labelSelector '" + label_param + "'");
  out.labels = std::move(*labels);
  std::string field_error;
  out.fields = parse_field_selector(field_param, field_error);
  if (!field_error.empty()) return bad_request(field_error);
  return std::nullopt;
}

}  // namespace

const std::vector<FakeKind>& fake_kube_kinds() {
  static const std::vector<FakeKind> kKinds = {
      {"v1", "Namespace", "namespaces", false, false},
      {"v1", "ServiceAccount", "serviceaccounts", true, false},
      {"v1", "Secret", "secrets", true, false},
      {"v1", "ConfigMap", "configmaps", true, false},
      {"v1", "Service", "services", true, false},
      {"v1", "Pod", "pods", true, false},
      {"v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, false},
      {"v1", "Endpoints", "endpoints", true, false},
      {"v1", "Node", "nodes", false, false},
      {"rbac.authorization.k8s.io/v1", "Role", "roles", true, false},
      {"rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true, false},
      {"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false, false},
      {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false, false},
      {"apps/v1", "Deployment", "deployments", true, true},
      {"apps/v1", "StatefulSet", "statefulsets", true, true},
      {"apps/v1", "DaemonSet", "daemonsets", true, true},
      {"batch/v1", "Job", "jobs", true, true},
      {"policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true, true},
      {"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, true},
      {"storage.k8s.io/v1", "StorageClass", "storageclasses", false, false},
  };
  return kKinds;
}

CannedResponse status_answer(int code, const std::string& reason, const std::string& message) {
  return json_answer(code, status_json(code, reason, message));
}

// What a request addresses: a kind's collection (name "") or one object.
struct FakeKubeApi::Route {
  const FakeKind* kind = nullptr;
  std::string namespace_name;  // "" for cluster-scoped kinds and all-namespace collections
  std::string name;
  std::map<std::string, std::string> query;  // decoded

  std::string param(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? "" : it->second;
  }
  bool has(const std::string& key) const { return query.count(key) > 0; }
  Key key() const { return {kind->api_version, kind->kind, namespace_name, name}; }
  kube::ObjectRef ref() const { return {kind->api_version, kind->kind, namespace_name, name}; }
};

FakeKubeApi::FakeKubeApi()
    : server_(std::make_unique<FakeAws>([this](const RecordedRequest& request) { return handle(request); })) {}

FakeKubeApi::~FakeKubeApi() {
  server_.reset();  // before what its handler uses goes
}

std::string FakeKubeApi::url() const { return server_->url(); }
const std::string& FakeKubeApi::ca_pem() const { return server_->ca_pem(); }

kube::ClientConfig FakeKubeApi::client_config() {
  kube::ClientConfig config;
  config.server = url();
  config.ca_pem = ca_pem();
  config.token = [] { return std::string(kToken); };
  config.sleep = [this](std::chrono::milliseconds d) {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(d);
  };
  config.jitter = [] { return 0.5; };
  return config;
}

std::vector<std::chrono::milliseconds> FakeKubeApi::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

http::Response FakeKubeApi::send_raw(const std::string& method, const std::string& target, const std::string& body,
                                     const std::string& content_type) {
  http::TlsOptions tls;
  tls.ca_pem = ca_pem();
  http::Client client(tls);
  http::Request request;
  request.method = method;
  request.url = url() + target;
  request.body = body;
  request.headers = {{"Authorization", std::string("Bearer ") + kToken}, {"Accept", "application/json"}};
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  return client.send(request);
}

CannedResponse FakeKubeApi::handle(const RecordedRequest& request) {
  std::lock_guard lock(mutex_);
  requests_.push_back(request);
  for (auto it = injections_.begin(); it != injections_.end(); ++it) {
    if (!it->match(request)) continue;
    CannedResponse answer = it->answer;
    if (--it->remaining <= 0) injections_.erase(it);
    return answer;
  }
  if (request.header("authorization") != std::string("Bearer ") + kToken)
    return status_answer(401, "Unauthorized", "Unauthorized");

  // The target: /api/v1/… or /apis/GROUP/VERSION/…, then
  // [namespaces/NS/]PLURAL[/NAME], then the query.
  Route route;
  std::string path = request.target.substr(0, request.target.find('?'));
  if (auto q = request.target.find('?'); q != std::string::npos) {
    std::string query = request.target.substr(q + 1);
    for (size_t start = 0; start <= query.size();) {
      size_t end = query.find('&', start);
      if (end == std::string::npos) end = query.size();
      std::string pair = query.substr(start, end - start);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        auto decode = [](const std::string& text) { return percent_decode(text, true).value_or(text); };
        route.query[decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode(pair.substr(eq + 1));
      }
      start = end + 1;
    }
  }
  std::vector<std::string> segments;
  for (size_t start = 1; start <= path.size();) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  auto no_such_resource = [] {
    return status_answer(404, "NotFound", "the server could not find the requested resource");
  };
  std::string api_version;
  size_t rest = 0;
  if (segments.size() >= 2 && segments[0] == "api" && segments[1] == "v1") {
    api_version = "v1";
    rest = 2;
  } else if (segments.size() >= 3 && segments[0] == "apis") {
    api_version = segments[1] + "/" + segments[2];
    rest = 3;
  } else {
    return no_such_resource();
  }
  std::vector<std::string> tail(segments.begin() + static_cast<long>(rest), segments.end());
  // One subresource: a pod's status, by strategic merge patch.
  if (api_version == "v1" && tail.size() == 5 && tail[0] == "namespaces" && tail[2] == "pods" && tail[4] == "status") {
    route.namespace_name = tail[1];
    route.name = tail[3];
    route.kind = find_kind_by_plural("v1", "pods");
    if (request.method != "PATCH")
      return status_answer(405, "MethodNotAllowed", "the fake Kubernetes API only patches a pod's status");
    return patch_pod_status(route, request);
  }
  std::string plural;
  if (tail.size() == 1 || tail.size() == 2) {
    plural = tail[0];
    if (tail.size() == 2) route.name = tail[1];
  } else if ((tail.size() == 3 || tail.size() == 4) && tail[0] == "namespaces") {
    route.namespace_name = tail[1];
    plural = tail[2];
    if (tail.size() == 4) route.name = tail[3];
  } else {
    return no_such_resource();  // subresources among them
  }
  route.kind = find_kind_by_plural(api_version, plural);
  if (!route.kind || (tail.size() >= 3 && !route.kind->namespaced) ||
      (route.kind->namespaced && !route.name.empty() && route.namespace_name.empty()) ||
      (tail.size() >= 3 && route.namespace_name.empty()) || (tail.size() % 2 == 0 && route.name.empty()))
    return no_such_resource();

  const std::string& method = request.method;
  if (method == "GET") {
    if (!route.name.empty()) return get_object(route);
    std::string watch_flag = route.param("watch");
    if (watch_flag == "1" || watch_flag == "true") return watch(route);
    return list(route);
  }
  if (method == "PATCH" && !route.name.empty()) return apply(route, request);
  if (method == "DELETE") return route.name.empty() ? delete_collection(route) : delete_object(route);
  return status_answer(405, "MethodNotAllowed", "the fake Kubernetes API does not serve " + method + " here");
}

void FakeKubeApi::settle_metadata(const FakeKind& kind, const json* previous, json& next) {
  json& metadata = next["metadata"];
  for (const char* field : {"managedFields", "selfLink"}) metadata.erase(field);
  if (previous) {
    const json& before = (*previous)["metadata"];
    for (const char* field : {"uid", "creationTimestamp", "resourceVersion", "deletionTimestamp",
                              "deletionGracePeriodSeconds"}) {
      if (before.contains(field)) metadata[field] = before[field];
      else metadata.erase(field);
    }
    if (kind.has_generation) {
      int64_t generation = before.value("generation", int64_t{1});
      bool spec_changed = previous->value("spec", json()) != next.value("spec", json());
      metadata["generation"] = spec_changed ? generation + 1 : generation;
    } else {
      metadata.erase("generation");
    }
  } else {
    metadata["uid"] = next_uid();
    metadata["creationTimestamp"] = now_rfc3339();
    for (const char* field : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"})
      metadata.erase(field);
    if (kind.has_generation) metadata["generation"] = 1;
    else metadata.erase("generation");
  }
}

json FakeKubeApi::write(const Key& key, json next) {
  auto it = objects_.find(key);
  if (it != objects_.end() && it->second == next) return it->second;
  std::optional<json> previous;
  if (it != objects_.end()) previous = it->second;
  next["metadata"]["resourceVersion"] = std::to_string(++resource_version_);
  objects_[key] = next;
  events_.push_back({resource_version_, previous ? "MODIFIED" : "ADDED", key, next, std::move(previous)});
  return next;
}

void FakeKubeApi::erase(const Key& key, json last_state) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  json previous = std::move(it->second);
  objects_.erase(it);
  ownership_.erase(key);
  last_state["metadata"]["resourceVersion"] = std::to_string(++resource_version_);
  events_.push_back({resource_version_, "DELETED", key, std::move(last_state), std::move(previous)});
}

std::optional<json> FakeKubeApi::delete_stored(const Key& key) {
  const json& stored = objects_.at(key);
  if (!has_finalizers(stored)) {
    erase(key, stored);
    return std::nullopt;
  }
  if (being_deleted(stored)) return stored;
  json marked = stored;
  marked["metadata"]["deletionTimestamp"] = now_rfc3339();
  marked["metadata"]["deletionGracePeriodSeconds"] = 0;
  return write(key, std::move(marked));
}

std::string FakeKubeApi::next_uid() {
  char text[40];
  std::snprintf(text, sizeof text, "fa4e0000-0000-4000-8000-%012" PRIx64, ++uids_);
  return text;
}

CannedResponse FakeKubeApi::patch_pod_status(const Route& route, const RecordedRequest& request) {
  std::string content_type = trim(request.header("content-type").substr(0, request.header("content-type").find(';')));
  if (content_type != "application/strategic-merge-patch+json")
    return status_answer(415, "UnsupportedMediaType", "a pod's status takes only a strategic merge patch here");
  json patch = json::parse(request.body, nullptr, false);
  if (!patch.is_object() || patch.size() != 1 || !patch.contains("status") || !patch["status"].is_object())
    return bad_request("the fake patches only status (its conditions)");
  auto it = objects_.find(route.key());
  if (it == objects_.end()) return status_answer(404, "NotFound", "pods \"" + route.name + "\" not found");
  json next = it->second;
  json& conditions = next["status"]["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  for (const auto& [field, value] : patch["status"].items()) {
    if (field != "conditions" || !value.is_array()) return bad_request("the fake patches only status.conditions");
    // Merged by type, as the pod's strategic merge key says.
    for (const auto& condition : value) {
      if (!condition.is_object() || !condition.contains("type") || !condition["type"].is_string())
        return bad_request("a condition without a type");
      auto same = std::find_if(conditions.begin(), conditions.end(),
                               [&](const json& c) { return c.value("type", "") == condition["type"]; });
      if (same == conditions.end()) {
        conditions.push_back(condition);
      } else {
        same->update(condition);
      }
    }
  }
  return json_answer(200, write(route.key(), std::move(next)));
}

CannedResponse FakeKubeApi::apply(const Route& route, const RecordedRequest& request) {
  std::string content_type = trim(request.header("content-type").substr(0, request.header("content-type").find(';')));
  if (content_type != kApplyPatch)
    return status_answer(415, "UnsupportedMediaType",
                         "the body of the request was in an unknown format - the fake Kubernetes API accepts only " +
                             kApplyPatch);
  const std::string manager = route.param("fieldManager");
  if (manager.empty())
    return status_answer(422, "Invalid",
                         "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for "
                         "apply patch");
  if (route.has("force") && route.param("force") != "true" && route.param("force") != "false")
    return bad_request("force: invalid value '" + route.param("force") + "'");
  const FakeKind& kind = *route.kind;
  json applied = json::parse(request.body, nullptr, false);
  if (!applied.is_object()) return bad_request("error decoding YAML: the body is not a JSON object");
  if (applied.value("apiVersion", json()) != kind.api_version || applied.value("kind", json()) != kind.kind)
    return bad_request("the body's apiVersion and kind (" + applied.value("apiVersion", json()).dump() + ", " +
                       applied.value("kind", json()).dump() + ") are not those of the URL (" + kind.api_version +
                       ", " + kind.kind + ")");
  if (!applied.contains("metadata") || !applied["metadata"].is_object())
    return bad_request("the object has no metadata");
  const json& metadata = applied["metadata"];
  if (metadata.value("name", json()) != route.name)
    return bad_request("the name of the object (" + metadata.value("name", json()).dump() +
                       ") does not match the name on the URL (" + route.name + ")");
  if (metadata.contains("namespace") && metadata["namespace"] != route.namespace_name &&
      !(metadata["namespace"] == "" && !kind.namespaced))
    return bad_request("the namespace of the provided object does not match the namespace sent on the request");
  for (const char* map : {"labels", "annotations"}) {
    if (metadata.contains(map) && !is_map_of_strings(metadata[map]))
      return status_answer(422, "Invalid", kind.kind + " \"" + route.name + "\" is invalid: metadata." + map +
                                               ": must be a map of strings");
  }
  if (metadata.contains("labels")) {
    for (const auto& [key, value] : metadata["labels"].items())
      if (!is_selector_key(key) || !kube::is_label_value(value.get<std::string>()))
        return status_answer(422, "Invalid", kind.kind + " \"" + route.name + "\" is invalid: metadata.labels: " +
                                                 "Invalid value: \"" + value.get<std::string>() + "\"");
  }
  if (namespaces_must_exist_ && kind.namespaced && !objects_.count({"v1", "Namespace", "", route.namespace_name}))
    return status_with_details(404, "NotFound", "namespaces \"" + route.namespace_name + "\" not found",
                               {{"name", route.namespace_name}, {"kind", "namespaces"}});

  const Key key = route.key();
  auto it = objects_.find(key);
  const json* stored = it == objects_.end() ? nullptr : &it->second;
  if (stored && metadata.contains("resourceVersion") &&
      metadata["resourceVersion"] != (*stored)["metadata"]["resourceVersion"])
    return status_answer(409, "Conflict",
                         "Operation cannot be fulfilled on " + qualified_resource(kind) + " \"" + route.name +
                             "\": the object has been modified; please apply your changes to the latest version and "
                             "try again");

  // The merge: what this manager applies now replaces what it applied
  // before; what others wrote stays.
  Ownership before;
  if (auto o = ownership_.find(key); o != ownership_.end())
    if (auto m = o->second.find(manager); m != o->second.end()) before = m->second;
  Ownership now;
  json result = stored ? *stored : json{{"apiVersion", kind.api_version}, {"kind", kind.kind},
                                         {"metadata", {{"name", route.name}}}};
  if (!stored && kind.namespaced) result["metadata"]["namespace"] = route.namespace_name;
  for (const auto& [field, value] : applied.items()) {
    if (field == "apiVersion" || field == "kind" || field == "metadata" || field == "status") continue;
    now.fields.insert(field);
    result[field] = value;
  }
  for (const auto& field : before.fields)
    if (!now.fields.count(field)) result.erase(field);
  json& result_metadata = result["metadata"];
  for (const auto& [field, value] : metadata.items()) {
    if (is_server_metadata(field)) continue;
    now.metadata.insert(field);
    result_metadata[field] = value;
  }
  for (const auto& field : before.metadata)
    if (!now.metadata.count(field)) result_metadata.erase(field);
  auto merge_map = [&](const char* map, std::set<std::string>& owned_now, const std::set<std::string>& owned_before) {
    if (metadata.contains(map))
      for (const auto& [key_name, value] : metadata[map].items()) {
        owned_now.insert(key_name);
        result_metadata[map][key_name] = value;
      }
    if (result_metadata.contains(map)) {
      for (const auto& key_name : owned_before)
        if (!owned_now.count(key_name)) result_metadata[map].erase(key_name);
      if (result_metadata[map].empty()) result_metadata.erase(map);
    }
  };
  merge_map("labels", now.labels, before.labels);
  merge_map("annotations", now.annotations, before.annotations);
  settle_metadata(kind, stored, result);

  if (route.param("dryRun") == "All") {
    if (!stored) result["metadata"]["resourceVersion"] = std::to_string(resource_version_);
    return json_answer(stored ? 200 : 201, result);
  }
  ownership_[key][manager] = std::move(now);
  const bool created = stored == nullptr;
  if (stored && being_deleted(result) && !has_finalizers(result)) {
    erase(key, result);
    return json_answer(200, result);
  }
  return json_answer(created ? 201 : 200, write(key, std::move(result)));
}

CannedResponse FakeKubeApi::get_object(const Route& route) {
  auto it = objects_.find(route.key());
  if (it == objects_.end()) return not_found(*route.kind, route.name);
  return json_answer(200, it->second);
}

CannedResponse FakeKubeApi::list(const Route& route) {
  Selector selector;
  if (auto refused = read_selector(route.param("labelSelector"), route.param("fieldSelector"), selector)) return *refused;

  size_t limit = 0;
  if (route.has("limit")) {
    auto parsed = parse_version(route.param("limit"));
    if (!parsed) return bad_request("limit: invalid value '" + route.param("limit") + "'");
    limit = static_cast<size_t>(*parsed);
  }
  if (page_size_ > 0 && (limit == 0 || page_size_ < limit)) limit = page_size_;

  uint64_t list_version = resource_version_;
  std::optional<ContinuePoint> from;
  if (route.has("continue")) {
    from = parse_continue(route.param("continue"));
    if (!from) return bad_request("continue key is not valid");
    if (from->resource_version < compacted_at_)
      return status_answer(410, "Expired",
                           "The provided continue parameter is too old to display a consistent list result. You can "
                           "start a new list without the continue parameter.");
    list_version = from->resource_version;
  }

  const FakeKind& kind = *route.kind;
  json items = json::array();
  size_t remaining = 0;
  std::string last_namespace, last_name;
  for (auto it = objects_.lower_bound({kind.api_version, kind.kind, route.namespace_name, ""});
       it != objects_.end() && std::get<0>(it->first) == kind.api_version && std::get<1>(it->first) == kind.kind;
       ++it) {
    const auto& [api_version, kind_name, namespace_name, name] = it->first;
    if (!route.namespace_name.empty() && namespace_name != route.namespace_name) break;
    if (from && std::tie(namespace_name, name) <= std::tie(from->namespace_name, from->name)) continue;
    if (!selector.matches(it->second)) continue;
    if (limit > 0 && items.size() == limit) {
      ++remaining;
      continue;
    }
    json item = it->second;
    item.erase("apiVersion");
    item.erase("kind");
    items.push_back(std::move(item));
    last_namespace = namespace_name;
    last_name = name;
  }
  json list_metadata = {{"resourceVersion", std::to_string(list_version)}};
  if (remaining > 0) {
    list_metadata["continue"] = continue_token(list_version, last_namespace, last_name);
    if (selector.empty()) list_metadata["remainingItemCount"] = remaining;
  }
  return json_answer(200, {{"kind", kind.kind + "List"},
                           {"apiVersion", kind.api_version},
                           {"metadata", list_metadata},
                           {"items", items}});
}

CannedResponse FakeKubeApi::watch(const Route& route) {
  Selector selector;
  if (auto refused = read_selector(route.param("labelSelector"), route.param("fieldSelector"), selector)) return *refused;

  const FakeKind& kind = *route.kind;
  std::string body;
  auto line = [&](const std::string& type, const json& object) {
    body += json{{"type", type}, {"object", object}}.dump() + "\n";
  };
  auto in_scope = [&](const Key& key) {
    return std::get<0>(key) == kind.api_version && std::get<1>(key) == kind.kind &&
           (route.namespace_name.empty() || std::get<2>(key) == route.namespace_name);
  };
  const std::string from_text = route.param("resourceVersion");
  if (from_text.empty() || from_text == "0") {
    // "Any version": the state now, as ADDED events.
    for (const auto& [key, object] : objects_)
      if (in_scope(key) && selector.matches(object)) line("ADDED", object);
  } else {
    auto from = parse_version(from_text);
    if (!from) return bad_request("resourceVersion: Invalid value: \"" + from_text + "\"");
    if (*from < compacted_at_) {
      json gone = status_json(410, "Expired", "too old resource version: " + from_text + " (" +
                                                  std::to_string(compacted_at_) + ")");
      if (compact_answer_ == CompactAnswer::kHttpGone) return json_answer(410, gone);
      line("ERROR", gone);
      return {200, {{"Content-Type", "application/json"}}, body};
    }
    // As the API's watch cache does: a change that takes an object into the
    // selection is ADDED, one that takes it out DELETED.
    for (const Event& event : events_) {
      if (event.resource_version <= *from || !in_scope(event.key)) continue;
      bool now_matches = event.type != "DELETED" && selector.matches(event.object);
      bool before_matched = event.previous && selector.matches(*event.previous);
      if (event.type == "DELETED") {
        if (before_matched) line("DELETED", event.object);
      } else if (now_matches) {
        line(before_matched ? "MODIFIED" : "ADDED", event.object);
      } else if (before_matched) {
        json last = *event.previous;
        last["metadata"]["resourceVersion"] = std::to_string(event.resource_version);
        line("DELETED", last);
      }
    }
  }
  std::string bookmarks = route.param("allowWatchBookmarks");
  if (bookmarks == "true" || bookmarks == "1")
    line("BOOKMARK", {{"kind", kind.kind},
                      {"apiVersion", kind.api_version},
                      {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}}});
  return {200, {{"Content-Type", "application/json"}}, body};
}

CannedResponse FakeKubeApi::delete_object(const Route& route) {
  deletions_.push_back({route.ref(), route.param("propagationPolicy")});
  const Key key = route.key();
  auto it = objects_.find(key);
  if (it == objects_.end()) return not_found(*route.kind, route.name);
  json success = {{"kind", "Status"},
                  {"apiVersion", "v1"},
                  {"metadata", json::object()},
                  {"status", "Success"},
                  {"details",
                   {{"name", route.name},
                    {"group", group_of(route.kind->api_version)},
                    {"kind", route.kind->plural},
                    {"uid", it->second["metadata"].value("uid", "")}}}};
  if (route.param("dryRun") == "All") return json_answer(200, success);
  // Finalizers hold it: the API answers 202 with the object marked.
  if (auto stays = delete_stored(key)) return json_answer(202, *stays);
  return json_answer(200, success);
}

CannedResponse FakeKubeApi::delete_collection(const Route& route) {
  Selector selector;
  if (auto refused = read_selector(route.param("labelSelector"), route.param("fieldSelector"), selector)) return *refused;
  const FakeKind& kind = *route.kind;
  std::vector<Key> doomed;
  for (const auto& [key, object] : objects_)
    if (std::get<0>(key) == kind.api_version && std::get<1>(key) == kind.kind &&
        (route.namespace_name.empty() || std::get<2>(key) == route.namespace_name) && selector.matches(object))
      doomed.push_back(key);
  json items = json::array();
  for (const Key& key : doomed) {
    deletions_.push_back({{std::get<0>(key), std::get<1>(key), std::get<2>(key), std::get<3>(key)},
                          route.param("propagationPolicy")});
    json item = objects_.at(key);
    if (route.param("dryRun") != "All") {
      if (auto stays = delete_stored(key)) item = *stays;
    }
    item.erase("apiVersion");
    item.erase("kind");
    items.push_back(std::move(item));
  }
  return json_answer(200, {{"kind", kind.kind + "List"},
                           {"apiVersion", kind.api_version},
                           {"metadata", {{"resourceVersion", std::to_string(resource_version_)}}},
                           {"items", items}});
}

std::optional<json> FakeKubeApi::put(json object) {
  if (!object.is_object() || !object.contains("apiVersion") || !object["apiVersion"].is_string() ||
      !object.contains("kind") || !object["kind"].is_string())
    throw std::invalid_argument("put: the object needs apiVersion and kind strings");
  const FakeKind* kind = find_kind(object["apiVersion"].get<std::string>(), object["kind"].get<std::string>());
  if (!kind) throw std::invalid_argument("put: the fake does not serve " + object["kind"].get<std::string>());
  std::string name = string_at(object, "/metadata/name");
  std::string namespace_name = string_at(object, "/metadata/namespace");
  if (name.empty()) throw std::invalid_argument("put: the object has no metadata.name");
  if (kind->namespaced == namespace_name.empty())
    throw std::invalid_argument("put: " + kind->kind + (kind->namespaced ? " needs" : " takes no") + " namespace");
  std::lock_guard lock(mutex_);
  Key key{kind->api_version, kind->kind, namespace_name, name};
  auto it = objects_.find(key);
  const json* stored = it == objects_.end() ? nullptr : &it->second;
  settle_metadata(*kind, stored, object);
  // Clearing the last finalizer of an object being deleted lets it go.
  if (stored && being_deleted(object) && !has_finalizers(object)) {
    erase(key, object);
    return std::nullopt;
  }
  return write(key, std::move(object));
}

json FakeKubeApi::set_status(const kube::ObjectRef& ref, json status) {
  std::lock_guard lock(mutex_);
  Key key{ref.api_version, ref.kind, ref.namespace_name, ref.name};
  auto it = objects_.find(key);
  if (it == objects_.end()) throw std::out_of_range("set_status: no " + kube::describe(ref));
  json next = it->second;
  next["status"] = std::move(status);
  return write(key, std::move(next));
}

bool FakeKubeApi::remove_object(const kube::ObjectRef& ref) {
  std::lock_guard lock(mutex_);
  Key key{ref.api_version, ref.kind, ref.namespace_name, ref.name};
  auto it = objects_.find(key);
  if (it == objects_.end()) return false;
  erase(key, it->second);
  return true;
}

std::optional<json> FakeKubeApi::object(const kube::ObjectRef& ref) const {
  std::lock_guard lock(mutex_);
  auto it = objects_.find({ref.api_version, ref.kind, ref.namespace_name, ref.name});
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> FakeKubeApi::objects(const std::string& kind, const std::string& namespace_name) const {
  std::lock_guard lock(mutex_);
  std::vector<json> out;
  const FakeKind* info = find_kind_by_name(kind);
  if (!info) return out;
  for (const auto& [key, object] : objects_)
    if (std::get<1>(key) == kind && (namespace_name.empty() || std::get<2>(key) == namespace_name))
      out.push_back(object);
  return out;
}

std::string FakeKubeApi::resource_version() const {
  std::lock_guard lock(mutex_);
  return std::to_string(resource_version_);
}

void FakeKubeApi::compact(CompactAnswer answer) {
  std::lock_guard lock(mutex_);
  compacted_at_ = resource_version_;
  compact_answer_ = answer;
  events_.clear();
}

void FakeKubeApi::set_page_size(size_t items) {
  std::lock_guard lock(mutex_);
  page_size_ = items;
}

void FakeKubeApi::set_namespaces_must_exist(bool must) {
  std::lock_guard lock(mutex_);
  namespaces_must_exist_ = must;
}

void FakeKubeApi::fail_next(std::function<bool(const RecordedRequest&)> match, CannedResponse answer, int times) {
  if (times <= 0) return;
  std::lock_guard lock(mutex_);
  injections_.push_back({std::move(match), std::move(answer), times});
}

std::vector<RecordedRequest> FakeKubeApi::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeKubeApi::clear_requests() {
  std::lock_guard lock(mutex_);
  requests_.clear();
}

std::vector<RecordedDeletion> FakeKubeApi::deletions() const {
  std::lock_guard lock(mutex_);
  return deletions_;
}

std::vector<json> applied_bodies(const std::vector<RecordedRequest>& requests) {
  std::vector<json> bodies;
  for (const auto& r : requests) {
    std::string content_type = r.header("content-type");
    if (r.method == "PATCH" && trim(content_type.substr(0, content_type.find(';'))) == kApplyPatch)
      bodies.push_back(json::parse(r.body, nullptr, false));
  }
  return bodies;
}

std::string kubernetes_models_failures(const std::vector<json>& objects) {
  TempDir dir("byoc-kube-models");
  files::write_atomic(dir.path() / "list.json",
                      json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", objects}}.dump(), 0600);
  proc::SpawnOptions spawn;
  spawn.argv = {"node", BYOC_KUBE_MODELS_VALIDATE, (dir.path() / "list.json").string()};
  spawn.output = dir.path() / "out.txt";
  pid_t pid = proc::spawn(spawn);
  std::optional<int> status;
  if (!proc::wait_for(120s, [&] { return (status = proc::try_reap(pid)).has_value(); })) {
    proc::terminate(pid, 1s);
    return "node " BYOC_KUBE_MODELS_VALIDATE " did not finish in 120 s";
  }
  if (*status == 0) return "";
  std::string output = files::read_if_exists(dir.path() / "out.txt").value_or("");
  return output.empty() ? "node " BYOC_KUBE_MODELS_VALIDATE " exited " + std::to_string(*status) : output;
}

}  // namespace byoc::testing
