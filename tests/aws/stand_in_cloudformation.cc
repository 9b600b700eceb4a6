#include "stand_in_cloudformation.h"

#include <map>
#include <nlohmann/json.hpp>

#include "stand_in_account.h"

namespace byoc::testing {
namespace {

constexpr const char* kXmlns = "http://cloudformation.amazonaws.com/doc/2010-05-15/";
constexpr const char* kStackType = "AWS::CloudFormation::Stack";

std::string element(const std::string& name, const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '<') escaped += "&lt;";
    else if (c == '>') escaped += "&gt;";
    else if (c == '&') escaped += "&amp;";
    else escaped += c;
  }
  return "<" + name + ">" + escaped + "</" + name + ">";
}

// A query request's Tags.member.N.Key / .Value, in order.
std::vector<std::pair<std::string, std::string>> tags_of(std::map<std::string, std::string>& form) {
  std::vector<std::pair<std::string, std::string>> tags;
  for (int i = 1; form.count("Tags.member." + std::to_string(i) + ".Key"); ++i)
    tags.emplace_back(form["Tags.member." + std::to_string(i) + ".Key"],
                      form["Tags.member." + std::to_string(i) + ".Value"]);
  return tags;
}

// The stack's parameter values after a create or update with `form`:
// each the template declares, given (ParameterValue), kept from `previous`
// (UsePreviousValue, refused for one the stack didn't have), or its Default.
// nullopt with `error` set when refused.
std::optional<std::map<std::string, std::string>> parameters_of(std::map<std::string, std::string>& form,
                                                                const std::map<std::string, std::string>& previous,
                                                                std::string& error) {
  std::map<std::string, std::string> out;
  nlohmann::json declared = nlohmann::json::parse(form["TemplateBody"], nullptr, false);
  if (declared.is_discarded() || !declared.is_object()) return out;
  const nlohmann::json parameters = declared.value("Parameters", nlohmann::json::object());
  for (const auto& [key, parameter] : parameters.items())
    if (parameter.contains("Default")) out[key] = parameter["Default"].get<std::string>();
  for (int i = 1; form.count("Parameters.member." + std::to_string(i) + ".ParameterKey"); ++i) {
    const std::string member = "Parameters.member." + std::to_string(i) + ".";
    const std::string key = form[member + "ParameterKey"];
    if (form[member + "UsePreviousValue"] == "true") {
      auto kept = previous.find(key);
      if (kept == previous.end()) {
        error = "Invalid input for parameter key " + key +
                ". Cannot specify usePreviousValue as true for a parameter key not in the previous template";
        return std::nullopt;
      }
      out[key] = kept->second;
    } else {
      out[key] = form[member + "ParameterValue"];
    }
  }
  return out;
}

CannedResponse answer(const std::string& operation, const std::string& result) {
  return query_answer(operation, result, kXmlns);
}

}  // namespace

std::optional<CannedResponse> StandInCloudFormation::operator()(const RecordedRequest& request) {
  auto form = request.form();
  const std::string action = form["Action"];
  std::unique_lock lock(mutex_);
  if (action == "CreateStack") {
    CannedResponse r = create(form);
    auto hook = on_create_;
    lock.unlock();
    if (hook && r.status == 200) hook();
    return r;
  }
  if (action == "UpdateStack") return update(form);
  if (action == "DeleteStack") return remove(form);
  if (action == "DescribeStacks") return describe(form);
  if (action == "DescribeStackEvents") return events(form);
  if (action == "GetTemplate") return get_template(form);
  return std::nullopt;
}

void StandInCloudFormation::fail_creation_at(std::string logical_id, std::string reason) {
  std::lock_guard lock(mutex_);
  fail_at_ = std::move(logical_id);
  fail_reason_ = std::move(reason);
}

void StandInCloudFormation::put_stack(const std::string& name, const std::string& status,
                                      const std::vector<std::pair<std::string, std::string>>& tags) {
  std::lock_guard lock(mutex_);
  Stack s;
  s.name = name;
  s.id = "arn:aws:cloudformation:eu-west-1:123456789012:stack/" + name + "/0e2b0c0a-0000-11ef-a000-0a1b2c3d4e5f";
  s.status = status;
  s.tags = tags;
  s.events.push_back({name, kStackType, status, "", "someone-elses-token"});
  stacks_.push_back(s);
}

void StandInCloudFormation::on_create(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  on_create_ = std::move(hook);
}

std::vector<StandInCloudFormation::Stack> StandInCloudFormation::stacks() const {
  std::lock_guard lock(mutex_);
  return stacks_;
}

int StandInCloudFormation::created() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(stacks_.size());
}

StandInCloudFormation::Stack* StandInCloudFormation::find(const std::string& name_or_id) {
  for (auto& s : stacks_)
    if (s.id == name_or_id || (s.name == name_or_id && s.status != "DELETE_COMPLETE")) return &s;
  return nullptr;
}

CannedResponse StandInCloudFormation::create(std::map<std::string, std::string>& form) {
  const std::string name = form["StackName"], token = form["ClientRequestToken"];
  if (Stack* live = find(name)) {
    if (!token.empty() && !live->events.empty() && live->events.front().token == token)
      return answer("CreateStack", element("StackId", live->id));  // the same request again
    return query_error(400, "AlreadyExistsException", "Stack [" + name + "] already exists");
  }
  Stack s;
  s.name = name;
  s.id = "arn:aws:cloudformation:eu-west-1:123456789012:stack/" + name + "/" + std::to_string(stacks_.size() + 1) +
         "e2b0c0a0-0000-11ef-a000-0a1b2c3d4e5f";
  s.status = "CREATE_IN_PROGRESS";
  s.template_body = form["TemplateBody"];
  std::string error;
  auto parameters = parameters_of(form, {}, error);
  if (!parameters) return query_error(400, "ValidationError", error);
  s.parameters = *parameters;
  s.tags = tags_of(form);
  s.events.push_back({name, kStackType, "CREATE_IN_PROGRESS", "User Initiated", token});
  stacks_.push_back(s);
  return answer("CreateStack", element("StackId", s.id));
}

CannedResponse StandInCloudFormation::update(std::map<std::string, std::string>& form) {
  Stack* s = find(form["StackName"]);
  if (!s) return query_error(400, "ValidationError", "Stack [" + form["StackName"] + "] does not exist");
  std::string error;
  auto parameters = parameters_of(form, s->parameters, error);
  if (!parameters) return query_error(400, "ValidationError", error);
  if (s->template_body == form["TemplateBody"] && s->parameters == *parameters)
    return query_error(400, "ValidationError", "No updates are to be performed.");
  // What leaves the stack is deleted unless its DeletionPolicy keeps it.
  const auto was = nlohmann::json::parse(s->template_body, nullptr, false);
  const auto now = nlohmann::json::parse(form["TemplateBody"], nullptr, false);
  const nlohmann::json before = was.is_object() ? was.value("Resources", nlohmann::json::object()) : nlohmann::json::object();
  const nlohmann::json after = now.is_object() ? now.value("Resources", nlohmann::json::object()) : nlohmann::json::object();
  for (const auto& [logical_id, resource] : before.items())
    if (resource.value("Type", "") == "AWS::EKS::Nodegroup" && !after.contains(logical_id))
        dropped_.emplace_back(logical_id, resource.value("DeletionPolicy", "") == "Retain");
  s->template_body = form["TemplateBody"];
  s->parameters = *parameters;
  s->tags = tags_of(form);
  s->status = "UPDATE_IN_PROGRESS";
  s->events.push_back({s->name, kStackType, "UPDATE_IN_PROGRESS", "User Initiated", form["ClientRequestToken"]});
  return answer("UpdateStack", element("StackId", s->id));
}

CannedResponse StandInCloudFormation::remove(std::map<std::string, std::string>& form) {
  Stack* s = find(form["StackName"]);
  // Deleting a stack that isn't there succeeds, as CloudFormation's does.
  if (s && s->status != "DELETE_COMPLETE" && s->status != "DELETE_IN_PROGRESS") {
    s->status = "DELETE_IN_PROGRESS";
    s->events.push_back({s->name, kStackType, "DELETE_IN_PROGRESS", "User Initiated", form["ClientRequestToken"]});
  }
  return {200, {{"Content-Type", "text/xml"}},
          std::string("<DeleteStackResponse xmlns=\"") + kXmlns +
              "\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteStackResponse>"};
}

void StandInCloudFormation::step(Stack& s) {
  const std::string token = s.events.back().token;
  auto event = [&](std::string logical, std::string type, std::string status, std::string reason = "") {
    s.events.push_back({std::move(logical), std::move(type), status, std::move(reason), token});
  };
  if (s.status == "CREATE_IN_PROGRESS") {
    event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS");
    if (!fail_at_.empty()) {
      event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE");
      event(fail_at_, "AWS::EKS::Cluster", "CREATE_FAILED", fail_reason_);
      event("Vpc", "AWS::EC2::VPC", "CREATE_FAILED", "Resource creation cancelled");
      s.status = "ROLLBACK_IN_PROGRESS";
      event(s.name, kStackType, s.status, "The following resource(s) failed to create: [" + fail_at_ + "].");
      return;
    }
    event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE");
    s.status = "CREATE_COMPLETE";
  } else if (s.status == "UPDATE_IN_PROGRESS") {
    s.status = "UPDATE_COMPLETE";
  } else if (s.status == "ROLLBACK_IN_PROGRESS") {
    event("Vpc", "AWS::EC2::VPC", "DELETE_COMPLETE");
    s.status = "ROLLBACK_COMPLETE";
  } else if (s.status == "DELETE_IN_PROGRESS") {
    s.status = "DELETE_COMPLETE";
  } else {
    return;
  }
  event(s.name, kStackType, s.status);
}

CannedResponse StandInCloudFormation::describe(std::map<std::string, std::string>& form) {
  Stack* s = find(form["StackName"]);
  if (!s) return query_error(400, "ValidationError", "Stack with id " + form["StackName"] + " does not exist");
  step(*s);
  std::string tags, outputs, parameters;
  for (const auto& [k, v] : s->tags) tags += "<member>" + element("Key", k) + element("Value", v) + "</member>";
  for (const auto& [k, v] : s->parameters)
    parameters += "<member>" + element("ParameterKey", k) + element("ParameterValue", v) + "</member>";
  if (s->status == "CREATE_COMPLETE" || s->status == "UPDATE_COMPLETE") {
    // The template's outputs: a literal as it is, a parameter's value, and
    // for what resources give, values such resources would.
    const auto body = nlohmann::json::parse(s->template_body, nullptr, false);
    const std::map<std::string, std::string> made = {{"ClusterName", s->name},
                                                     {"VpcId", "vpc-0a1b2c3d"},
                                                     {"PrivateSubnetIds", "subnet-0a000001,subnet-0a000002"}};
    const nlohmann::json declared = body.is_object() ? body.value("Outputs", nlohmann::json::object())
                                                     : nlohmann::json::object();
    for (const auto& [key, output] : declared.items()) {
      const nlohmann::json& v = output["Value"];
      std::string value = key + "-value";
      if (v.is_string()) value = v.get<std::string>();
      else if (v.is_object() && v.contains("Ref") && s->parameters.count(v["Ref"].get<std::string>()))
        value = s->parameters.at(v["Ref"].get<std::string>());
      if (made.count(key)) value = made.at(key);
      outputs += "<member>" + element("OutputKey", key) + element("OutputValue", value) + "</member>";
    }
  }
  return answer("DescribeStacks",
                "<Stacks><member>" + element("StackName", s->name) + element("StackId", s->id) +
                    element("StackStatus", s->status) + "<CreationTime>2026-12-07T04:00:00Z</CreationTime>" +
                    "<Parameters>" + parameters + "</Parameters><Tags>" +
                    tags + "</Tags><Outputs>" + outputs + "</Outputs></member></Stacks>");
}

CannedResponse StandInCloudFormation::get_template(std::map<std::string, std::string>& form) {
  Stack* s = find(form["StackName"]);
  if (!s) return query_error(400, "ValidationError", "Stack with id " + form["StackName"] + " does not exist");
  return answer("GetTemplate", element("TemplateBody", s->template_body) +
                                   "<StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>");
}

void StandInCloudFormation::rewrite(const std::string& name, const std::string& template_body,
                                    const std::string& spec_tag) {
  std::lock_guard lock(mutex_);
  Stack* s = find(name);
  if (!s) return;
  s->template_body = template_body;
  for (auto& [key, value] : s->tags)
    if (key == "byoc-spec") value = spec_tag;
}

std::vector<std::pair<std::string, bool>> StandInCloudFormation::dropped_node_groups() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

CannedResponse StandInCloudFormation::events(std::map<std::string, std::string>& form) {
  Stack* s = find(form["StackName"]);
  if (!s) return query_error(400, "ValidationError", "Stack [" + form["StackName"] + "] does not exist");
  std::string members;
  int n = 0;
  for (auto it = s->events.rbegin(); it != s->events.rend(); ++it, ++n)
    members += "<member>" + element("StackId", s->id) + element("StackName", s->name) +
               element("EventId", "e-" + std::to_string(s->events.size() - n)) +
               element("LogicalResourceId", it->logical_id) + element("ResourceType", it->type) +
               "<Timestamp>2026-12-07T04:00:00Z</Timestamp>" + element("ResourceStatus", it->status) +
               (it->reason.empty() ? "" : element("ResourceStatusReason", it->reason)) +
               (it->token.empty() ? "" : element("ClientRequestToken", it->token)) + "</member>";
  return answer("DescribeStackEvents", "<StackEvents>" + members + "</StackEvents>");
}

}  // namespace byoc::testing
