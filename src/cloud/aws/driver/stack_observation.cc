#include "cloud/aws/driver/stack_observation.h"

#include <algorithm>
#include <map>
#include <cctype>

namespace byoc::aws {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Stacks change over minutes: looking every 15 s is plenty while one works.
constexpr auto kWhileInProgress = 15s;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string text(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool is_stack_event(const json& event) { return text(event, "ResourceType") == "AWS::CloudFormation::Stack"; }

// The events of the stack's last operation, oldest first: those after (and
// including) the stack's own newest *_IN_PROGRESS event that began it.
std::vector<json> last_operation(const json& events) {
  std::vector<json> newest_first;
  for (const auto& e : events) {
    newest_first.push_back(e);
    std::string status = text(e, "ResourceStatus");
    if (is_stack_event(e) && ends_with(status, "_IN_PROGRESS") && status.find("ROLLBACK") == std::string::npos &&
        status.find("CLEANUP") == std::string::npos)
      break;
  }
  std::reverse(newest_first.begin(), newest_first.end());
  return newest_first;
}

// The first resource that failed in the last operation, and why.
std::string first_failure(const json& events) {
  for (const auto& e : last_operation(events)) {
    if (is_stack_event(e) || !ends_with(text(e, "ResourceStatus"), "_FAILED")) continue;
    std::string reason = text(e, "ResourceStatusReason");
    // Resources CloudFormation gave up on because another failed say so; the cause is elsewhere.
    if (reason.find("Resource creation cancelled") != std::string::npos) continue;
    return text(e, "LogicalResourceId") + " (" + text(e, "ResourceType") + "): " + reason;
  }
  return "";
}

// How far the stack's last operation is: "N of M resources done; latest:
// LogicalId (Type) STATUS", "" before any resource event.
std::string progress(const json& events) {
  std::map<std::string, std::string> status_by_resource;
  const json* latest = nullptr;
  std::vector<json> operation = last_operation(events);
  for (const auto& e : operation) {
    if (is_stack_event(e)) continue;
    status_by_resource[text(e, "LogicalResourceId")] = text(e, "ResourceStatus");
    latest = &e;
  }
  if (!latest) return "";
  size_t done = 0;
  for (const auto& [id, status] : status_by_resource) done += ends_with(status, "_COMPLETE") ? 1 : 0;
  return std::to_string(done) + " of " + std::to_string(status_by_resource.size()) + " resources done; latest: " +
         text(*latest, "LogicalResourceId") + " (" + text(*latest, "ResourceType") + ") " +
         text(*latest, "ResourceStatus");
}

cloud::Failure classify(cloud::Failure failure, const std::string& message) {
  std::string m = lower(message);
  if (m.find("not authorized") != std::string::npos || m.find("accessdenied") != std::string::npos ||
      m.find("access denied") != std::string::npos)
    return cloud::Failure::kAccessDenied;
  if (m.find("limitexceeded") != std::string::npos || m.find("limit exceeded") != std::string::npos ||
      m.find("quota") != std::string::npos)
    return cloud::Failure::kQuotaExceeded;
  return failure;
}

}  // namespace

cloud::Observation observe_stack(const json& stack, const json& events, const std::string& spec) {
  cloud::Observation o;
  const std::string status = stack.is_object() ? text(stack, "StackStatus") : "";
  if (status.empty() || status == "DELETE_COMPLETE") {
    o.reason = "not_created";
    return o;
  }
  o.exists = true;
  o.handle = text(stack, "StackId");
  for (const auto& e : events)
    if (is_stack_event(e) && !text(e, "ClientRequestToken").empty()) {
      o.last_token = text(e, "ClientRequestToken");
      break;
    }
  for (const auto& output : stack.value("Outputs", json::array()))
    o.outputs[text(output, "OutputKey")] = text(output, "OutputValue");
  for (const auto& tag : stack.value("Tags", json::array()))
    if (text(tag, "Key") == kSpecTag) o.up_to_date = text(tag, "Value") == spec;

  auto failed = [&](cloud::Failure failure) {
    std::string cause = first_failure(events);
    o.message = cause.empty() ? text(stack, "StackStatusReason") : cause;
    o.failure = classify(failure, o.message);
    o.reason = lower(status);
  };
  if (status == "ROLLBACK_COMPLETE" || status == "ROLLBACK_FAILED") {
    failed(cloud::Failure::kRolledBack);
  } else if (status == "CREATE_FAILED") {
    failed(cloud::Failure::kCreateFailed);
  } else if (status == "UPDATE_ROLLBACK_COMPLETE" && o.up_to_date) {
    o.ready = true;  // rolled back to what the environment (changed back since) wants
  } else if (status == "UPDATE_ROLLBACK_COMPLETE" || status == "UPDATE_ROLLBACK_FAILED") {
    failed(cloud::Failure::kUpdateFailed);
  } else if (status == "DELETE_FAILED") {
    failed(cloud::Failure::kDeleteFailed);
  } else if (ends_with(status, "_IN_PROGRESS")) {
    o.reason = lower(status);
    o.message = progress(events);
    o.look_again = kWhileInProgress;
    // Nothing else can be asked of a stack while an operation runs on it
    // (CloudFormation refuses an update): a newer spec waits for its end.
    o.up_to_date = true;
  } else if (ends_with(status, "_COMPLETE")) {
    o.ready = o.up_to_date;
    if (!o.ready) o.reason = "out_of_date";
  } else {
    o.reason = lower(status);  // a status newer than this code: not ready, look again later
    o.look_again = kWhileInProgress;
  }
  return o;
}

}  // namespace byoc::aws
