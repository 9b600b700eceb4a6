#include "cloud/aws/aws_driver.h"

#include <spdlog/spdlog.h>

#include "base/error.h"
#include "cloud/aws/client.h"
#include "cloud/aws/driver/cluster_access.h"
#include "cloud/aws/driver/node_group_control.h"
#include "cloud/aws/driver/onboarding.h"
#include "cloud/aws/driver/stack_observation.h"
#include "cloud/aws/driver/stack_spec.h"
#include "cloud/aws/session.h"
#include "cloud/aws/sts.h"
#include "cloud/aws/templates/infra_template.h"
#include "cloud/aws/upgrade/audited_controls.h"
#include "cloud/aws/upgrade/cluster_upgrade_clients.h"
#include "kube/agent_objects.h"
#include "kube/client.h"

namespace byoc::aws {
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr size_t kMostRoleSessions = 256;  // cached assumed roles (one per environment and action)
constexpr const char* kStepStack = "stack";
constexpr const char* kStepNodeGroups = "node_groups";
constexpr const char* kStepAgent = "agent";
constexpr const char* kAgentNamespace = "byoc-system";
// The kubernetes runtime's option naming the environment's network.
constexpr const char* kEnvironmentCidrOption = "environment-cidr";
// The EKS version of every stack made before its template took the version
// as the KubernetesVersion parameter.
constexpr const char* kVersionBeforeParameter = "1.31";
// On the agent's Deployment: the token of the action that installed it.
constexpr const char* kActionAnnotation = "byoc.io/action-token";

bool stack_missing(const AwsCallError& e) {
  return e.aws().code == "ValidationError" && e.aws().message.find("does not exist") != std::string::npos;
}

// A stack that is no use and may be replaced: its creation failed, or a
// delete of it (replacing it before) did.
bool replaceable(const std::string& status) {
  return status == "ROLLBACK_COMPLETE" || status == "ROLLBACK_FAILED" || status == "CREATE_FAILED" ||
         status == "DELETE_FAILED";
}

std::string tag_value(const json& stack, const std::string& key) {
  if (!stack.is_object()) return "";
  for (const auto& tag : stack.value("Tags", json::array()))
    if (tag.value("Key", "") == key) return tag.value("Value", "");
  return "";
}

std::string account_id(const model::Environment& e) {
  auto it = e.account.find("account_id");
  return it == e.account.end() ? "" : it->second;
}

std::string output_or(const cloud::Observation& o, const std::string& name, const std::string& otherwise) {
  auto it = o.outputs.find(name);
  return it == o.outputs.end() ? otherwise : it->second;
}

// The cluster the stack says it made (the name byoc gives it, before it says).
std::string cluster_of(const model::Environment& environment, const cloud::Observation& stack) {
  return output_or(stack, "ClusterName", infra_cluster_name(environment.name));
}

// The agent counts as joined once it has reported (its CA) or is connected.
bool agent_joined(const model::Environment& e) {
  const model::Condition* connected = e.condition("agent_connected");
  return !e.ca_pem.empty() || (connected && connected->status);
}

// Records a call into the environment's cluster in its audit log
// (`cloud_access`) before it is sent: the call's fields with the cluster, the
// role acting and, unless "", `action` over the call's own.
UpgradeCallRecorder cluster_call_recorder(const AwsDriverOptions& options, const model::Environment& environment,
                                          const std::string& cluster_name, const std::string& action) {
  return [record = options.record_cluster_access, id = environment.id, cluster_name, action,
          role_arn = role_arn_of(environment)](const json& call) {
    if (!record) return;
    json event = call;
    if (!action.empty()) event["action"] = action;
    event["cluster"] = cluster_name;
    event["role_arn"] = role_arn;
    record(id, event);
  };
}

}  // namespace

struct AwsDriver::RoleSession {
  std::unique_ptr<Sts> sts;
  std::shared_ptr<CredentialsProvider> credentials;
};

AwsDriver::AwsDriver(AwsDriverOptions options) : options_(std::move(options)) {
  if (!options_.clock) throw Error::Internal("the aws driver needs a clock");
}

AwsDriver::~AwsDriver() = default;

std::vector<std::string> AwsDriver::provision_steps() const {
  return {cloud::kCustomerAccessStep, kStepStack, kStepNodeGroups, kStepAgent};
}

void AwsDriver::onboard(model::Environment& environment) const {
  fill_onboarding(environment.account, environment.region, environment.name, options_);
}

Session& AwsDriver::session(const std::string& region) {
  std::lock_guard lock(mutex_);
  auto& s = sessions_[region];
  if (!s) s = std::make_unique<Session>(options_.env, *options_.clock, region);
  return *s;
}

std::shared_ptr<CredentialsProvider> AwsDriver::role(const model::Environment& environment) {
  const std::string role_arn = role_arn_of(environment);
  if (role_arn.empty())
    throw Error::Invalid("account_id_missing", "environment " + environment.name + " has no AWS account id yet",
                         "account.account_id");
  Session& plane = session(environment.region);
  // Named after the action, so the customer's CloudTrail tells byoc's actions apart.
  std::string session_name = "byoc-" + (environment.cloud_token.empty() ? environment.id : environment.cloud_token);
  if (session_name.size() > 64) session_name.resize(64);
  const std::string key = environment.id + " " + role_arn + " " + session_name;
  std::lock_guard lock(mutex_);
  auto& cached = roles_[key];
  if (!cached) {
    cached = std::make_shared<RoleSession>();
    cached->sts = std::make_unique<Sts>(plane.options(Service::kSts));
    auto external = environment.account.find("external_id");
    AssumeRoleParams params{role_arn, session_name, external == environment.account.end() ? "" : external->second,
                            3600s};
    auto assume = std::make_unique<AssumeRoleProvider>(plane.options(Service::kSts).credentials, *cached->sts, params);
    cached->credentials = std::make_shared<RefreshingProvider>(std::move(assume), *options_.clock);
  }
  std::shared_ptr<RoleSession> role = cached;
  // One session per environment: an earlier action's goes (clients still
  // using it keep it alive); and a bound on environments.
  for (auto it = roles_.begin(); it != roles_.end();)
    it = it->first != key && it->first.rfind(environment.id + " ", 0) == 0 ? roles_.erase(it) : std::next(it);
  if (roles_.size() > kMostRoleSessions)
    for (auto it = roles_.begin(); it != roles_.end();) it = it->first == key ? std::next(it) : roles_.erase(it);
  // Shares ownership of the whole role session (its STS client too), so an
  // entry dropped from the cache lives on while a client still uses it.
  return std::shared_ptr<CredentialsProvider>(role, role->credentials.get());
}

Client AwsDriver::client(const model::Environment& environment, Service service) {
  std::shared_ptr<CredentialsProvider> credentials = role(environment);
  ClientOptions o = session(environment.region).options(service);
  o.credentials = std::move(credentials);
  if (options_.sleep) o.sleep = options_.sleep;
  return Client(std::move(o));
}

std::unique_ptr<kube::Client> AwsDriver::cluster(const model::Environment& environment,
                                                 const std::string& cluster_name) {
  Client eks = client(environment, Service::kEks);
  return cluster_client(describe_cluster(eks, cluster_name), role(environment), environment.region, options_.env,
                        *options_.clock, options_.sleep);
}

void AwsDriver::observe_agent(const model::Environment& environment, cloud::Observation& o) {
  o.ready = false;
  o.step = kStepAgent;
  if (options_.agent_image.empty()) {
    o.failure = cloud::Failure::kInvalidRequest;
    o.message = "no agent image is configured: start the server with --agent-image (or BYOC_AGENT_IMAGE)";
    o.last_token = environment.cloud_token;  // refused here, before anything is asked of the cluster
    return;
  }
  auto kube = cluster(environment, cluster_of(environment, o));
  std::optional<json> deployment = kube->get({"apps/v1", "Deployment", kAgentNamespace, kube::kAgentName});
  if (!deployment) {
    o.up_to_date = false;
    o.reason = "agent_not_installed";
    return;
  }
  // The install is the last action the cloud took (after the stack's).
  const json annotations = deployment->value("metadata", json::object()).value("annotations", json::object());
  if (std::string token = annotations.value(kActionAnnotation, ""); !token.empty()) o.last_token = token;
  const json containers =
      deployment->value("spec", json::object()).value("template", json::object()).value("spec", json::object())
          .value("containers", json::array());
  if (containers.empty() || containers[0].value("image", "") != options_.agent_image) {
    o.up_to_date = false;
    o.reason = "agent_outdated";
    return;
  }
  o.reason = "agent_joining";
}

void AwsDriver::install_agent(const model::Environment& environment, const std::string& token,
                              const std::string& cluster_name) {
  if (options_.agent_image.empty())
    throw Error::Invalid("aws_not_configured", "no agent image is configured (--agent-image)", "agent_image");
  if (!options_.issue_join_token) throw Error::Internal("the aws driver can't mint join tokens");
  auto kube = cluster(environment, cluster_name);
  kube::AgentInstall install;
  install.namespace_name = kAgentNamespace;
  install.environment_id = environment.id;
  install.image = options_.agent_image;
  install.runtime = "kubernetes";  // the services run in the environment's cluster
  // The VPC's: the services' NetworkPolicies admit the load balancer's
  // health checks from it.
  install.runtime_options[kEnvironmentCidrOption] = environment.cidr;
  if (options_.plane_urls) install.server_urls = options_.plane_urls();
  install.join_token = "not-yet";  // the objects before the Secret don't hold it
  std::vector<json> objects = kube::render_agent_objects(install);
  json names = json::array();
  for (const auto& object : objects) names.push_back(object.value("kind", "") + "/" + object["metadata"].value("name", ""));
  cluster_call_recorder(options_, environment, cluster_name, "install_agent")(
      {{"token", token}, {"objects", names}, {"image", options_.agent_image}});
  spdlog::info("environment {}: installing the agent into EKS cluster {} ({} objects)", environment.id, cluster_name,
               objects.size());
  // The namespace and the agent's rights first: a join token (a credential
  // for an hour) is minted only once the cluster has taken those.
  size_t applied = 0;
  for (; applied < objects.size() && objects[applied].value("kind", "") != "Secret"; ++applied)
    kube->apply(objects[applied]);
  install.join_token = options_.issue_join_token(environment.id);
  objects = kube::render_agent_objects(install);
  for (; applied < objects.size(); ++applied) {
    json& object = objects[applied];
    if (object.value("kind", "") == "Deployment") object["metadata"]["annotations"][kActionAnnotation] = token;
    kube->apply(object);
  }
}

std::string AwsDriver::stack_ref(const model::Environment& environment) const {
  return environment.cloud_handle.empty() ? infra_stack_name(environment.name) : environment.cloud_handle;
}

cloud::AccessCheck AwsDriver::check_access(const model::Environment& environment) {
  cloud::AccessCheck check;
  check.look_again = options_.check_again;
  if (account_id(environment).empty()) {
    check.reason = "account_id_missing";
    check.message = "give the customer's 12-digit AWS account id (account.account_id), then deploy the onboarding "
                    "template in it";
    return check;
  }
  try {
    stack_spec(environment, options_);  // what provisioning will need of the plane's own settings
    if (options_.agent_image.empty())
      throw Error::Invalid("aws_not_configured",
                           "no agent image is configured: start the server with --agent-image (or BYOC_AGENT_IMAGE)",
                           "agent_image");
    ClientOptions plane = session(environment.region).options(Service::kSts);
    if (options_.sleep) plane.sleep = options_.sleep;
    std::string session_name = "byoc-check-" + environment.id;
    if (session_name.size() > 64) session_name.resize(64);
    check = access_check_of(run_preflight(preflight_request(environment, session_name), plane));
  } catch (const Error& e) {
    check = {};
    const std::string& code = e.code();
    check.reason = code.rfind("aws_", 0) == 0 ? "aws_not_configured" : "check_failed";
    check.message = e.what();
    check.details = {{"code", code}, {"field", e.field()}};
  }
  check.look_again = options_.check_again;
  return check;
}

cloud::Observation AwsDriver::observe(const model::Environment& environment) {
  const bool deleting = environment.state == model::kDeleting;
  // Something refused here, before anything is asked of the cloud: the
  // recorded action counts as answered, so it isn't sent again and again.
  auto refused = [&](cloud::Failure failure, const std::string& message) {
    cloud::Observation o;
    o.exists = true;  // unknown: nothing is taken for gone
    o.failure = failure;
    o.reason = cloud::failure_code(failure);
    o.message = message;
    o.last_token = environment.cloud_token;
    o.look_again = options_.stack_poll;
    return o;
  };
  std::string digest;
  std::string spec_error;
  try {
    digest = stack_spec(environment, options_).digest;
  } catch (const Error& e) {
    spec_error = e.what();
  }
  if (!spec_error.empty() && !deleting) return refused(cloud::Failure::kInvalidRequest, spec_error);
  json stack = nullptr;
  json events = json::array();
  try {
    Client cfn = client(environment, Service::kCloudFormation);
    try {
      json found = cfn.call("DescribeStacks", {{"StackName", stack_ref(environment)}});
      if (!found.value("Stacks", json::array()).empty()) stack = found["Stacks"][0];
    } catch (const AwsCallError& e) {
      if (!stack_missing(e)) throw;
    }
    if (!stack.is_null())
      events = cfn.call("DescribeStackEvents", {{"StackName", stack.value("StackId", stack_ref(environment))}})
                   .value("StackEvents", json::array());
  } catch (const AwsCallError& e) {
    if (e.operation() != "AssumeRole") throw;
    // The customer took the plane's access away (deleted the onboarding stack, say).
    return refused(cloud::Failure::kAccessDenied, "byoc can no longer assume " + role_arn_of(environment) + " (" +
                                                      e.aws().code + ": " + e.aws().message + ")");
  }
  // A stack found by its name alone must be this environment's: another
  // environment's of the same name (another organisation, same account) is
  // neither adopted nor deleted.
  const std::string owner = tag_value(stack, "byoc-environment");
  if (!stack.is_null() && !owner.empty() && owner != environment.id) {
    if (deleting) return {};  // nothing of this environment's exists
    return refused(cloud::Failure::kInvalidRequest, "the stack " + stack.value("StackName", "") +
                                                        " belongs to another environment (" + owner +
                                                        "): give this one another name");
  }
  cloud::Observation o = observe_stack(stack, events, digest);
  o.look_again = options_.stack_poll;
  if (o.exists && !o.ready) o.step = kStepStack;
  if (deleting) {
    if (o.exists && o.failure == cloud::Failure::kNone) observe_node_groups_going(environment, o);
    return o;
  }
  if (o.ready) observe_node_groups(environment, o);
  if (o.ready && agent_joined(environment)) {
    // The stack is as asked and the agent in: whatever was asked last (the
    // stack's action, an update that had nothing to do, or the agent's
    // install) was taken.
    o.last_token = environment.cloud_token;
  } else if (o.ready) {
    observe_agent(environment, o);
  }
  return o;
}

std::string AwsDriver::create(const model::Environment& environment, const std::string& token) {
  StackSpec spec = stack_spec(environment, options_);
  Client cfn = client(environment, Service::kCloudFormation);
  try {
    json created = cfn.call("CreateStack", {{"StackName", spec.stack_name},
                                            {"TemplateBody", spec.template_body},
                                            {"Tags", spec.tags},
                                            {"OnFailure", "ROLLBACK"},
                                            {"ClientRequestToken", token}});
    return created.value("StackId", "");
  } catch (const AwsCallError& e) {
    if (e.aws().code != "AlreadyExistsException") throw;
  }
  // A stack of that name is there. A failed creation is replaced: deleted
  // now under this token, created anew once it is gone.
  json found = cfn.call("DescribeStacks", {{"StackName", spec.stack_name}});
  if (found.value("Stacks", json::array()).empty()) return "";
  const json& stack = found["Stacks"][0];
  if (std::string owner = tag_value(stack, "byoc-environment"); !owner.empty() && owner != environment.id)
    throw Error::Conflict("stack_taken", "the stack " + spec.stack_name + " belongs to another environment (" + owner +
                                             ")", "name");
  if (replaceable(stack.value("StackStatus", ""))) {
    spdlog::info("environment {}: replacing the failed stack {}", environment.id, stack.value("StackId", ""));
    cfn.call("DeleteStack", {{"StackName", stack.value("StackId", "")}, {"ClientRequestToken", token}});
  }
  return stack.value("StackId", "");
}

void AwsDriver::update(const model::Environment& environment, const std::string& token) {
  StackSpec spec = stack_spec(environment, options_);
  Client cfn = client(environment, Service::kCloudFormation);
  // The stack as asked: what is out of date is the agent (not installed, or
  // of another image).
  json found = cfn.call("DescribeStacks", {{"StackName", stack_ref(environment)}});
  json stack = found.value("Stacks", json::array()).empty() ? json(nullptr) : found["Stacks"][0];
  cloud::Observation now = observe_stack(stack, json::array(), spec.digest);
  if (now.ready) {
    if (!keep_node_groups(environment, now, token)) return;  // the agent once its nodes are there
    install_agent(environment, token, cluster_of(environment, now));
    return;
  }
  if (stack.is_object() && retain_stack_node_groups(cfn, stack, token)) return;
  json update = {{"StackName", stack_ref(environment)},
                 {"TemplateBody", spec.template_body},
                 {"Tags", spec.tags},
                 {"ClientRequestToken", token}};
  // The cluster keeps the version it was made with (infra_eks.cc). A stack
  // from before the parameter named it in its template: the one every such
  // stack was made with, whatever the default is now.
  json version = {{"ParameterKey", kKubernetesVersionParameter}, {"ParameterValue", kVersionBeforeParameter}};
  for (const auto& parameter : stack.is_object() ? stack.value("Parameters", json::array()) : json::array())
    if (parameter.value("ParameterKey", "") == kKubernetesVersionParameter)
      version = {{"ParameterKey", kKubernetesVersionParameter}, {"UsePreviousValue", true}};
  update["Parameters"] = json::array({version});
  try {
    cfn.call("UpdateStack", update);
  } catch (const AwsCallError& e) {
    // Already what was asked (a repeat after a crash): nothing to do.
    if (!(e.aws().code == "ValidationError" && e.aws().message.find("No updates") != std::string::npos)) throw;
  }
}

void AwsDriver::remove(const model::Environment& environment, const std::string& token) {
  if (role_arn_of(environment).empty()) return;  // the customer never let us in: nothing was made
  if (!remove_node_groups(environment)) return;  // asked to go; the next pass looks again
  Client cfn = client(environment, Service::kCloudFormation);
  cfn.call("DeleteStack", {{"StackName", stack_ref(environment)}, {"ClientRequestToken", token}});
}

NodeGroupControl AwsDriver::node_groups(const model::Environment& environment, Client& eks,
                                        const std::string& cluster_name, const std::string& action) {
  // Calls into the customer's cluster like the upgrader's: each change recorded first.
  return NodeGroupControl(eks, cluster_name, cluster_call_recorder(options_, environment, cluster_name, action));
}

void AwsDriver::observe_node_groups(const model::Environment& environment, cloud::Observation& o) {
  const std::string cluster_name = cluster_of(environment, o);
  Client eks = client(environment, Service::kEks);
  std::optional<std::vector<SeenNodeGroup>> seen = node_groups(environment, eks, cluster_name, "").observe();
  if (!seen) {  // a complete stack without its cluster: someone deleted it
    o.ready = false;
    o.up_to_date = false;
    o.step = kStepStack;
    o.reason = "cluster_missing";
    return;
  }
  // The stack is complete and as asked: the action recorded was taken (or
  // there was none). Node groups out of line are a new action's to fix —
  // their calls are idempotent and level-triggered, so one recorded but
  // never sent before a crash loses nothing: the next action makes them.
  o.last_token = environment.cloud_token;
  NodeGroupPlan plan = plan_node_groups(environment_node_groups(environment), *seen, environment.cloud_token);
  if (plan.has_work()) {
    o.ready = false;
    o.up_to_date = false;
    o.step = kStepNodeGroups;
    o.reason = "node_groups_out_of_date";
    return;
  }
  if (plan.failed) {
    o.ready = false;
    o.step = kStepNodeGroups;
    o.failure = cloud::Failure::kCreateFailed;
    o.reason = cloud::failure_code(o.failure);
    o.message = "EKS node group " + plan.failed->first + " failed: " + plan.failed->second;
    return;
  }
  if (plan.waiting) {
    o.ready = false;
    o.step = kStepNodeGroups;
    o.reason = "node_groups_changing";
  }
}

bool AwsDriver::keep_node_groups(const model::Environment& environment, const cloud::Observation& stack,
                                 const std::string& token) {
  const std::string cluster_name = cluster_of(environment, stack);
  Client eks = client(environment, Service::kEks);
  NodeGroupControl groups = node_groups(environment, eks, cluster_name, "");
  std::optional<std::vector<SeenNodeGroup>> seen = groups.observe();
  if (!seen) throw Error::NotFound("EKS cluster " + cluster_name + " does not exist");
  NodeGroupPlan plan = plan_node_groups(environment_node_groups(environment), *seen, token);
  for (const auto& name : plan.retry)
    for (const auto& g : *seen)
      if (g.name == name) {
        spdlog::info("environment {}: deleting failed node group {} ({}), to try again", environment.id, name, g.status);
        groups.remove(name);
        groups.mark(name, g.arn, token);  // failing again, it is this action's failure
      }
  const std::vector<std::string> subnets = comma_list(output_or(stack, "PrivateSubnetIds", ""));
  const std::string node_role = output_or(stack, "NodeRoleArn", "");
  if (!plan.create.empty() && (subnets.empty() || node_role.empty()))
    throw Error::Internal("the stack of " + environment.name + " gives no PrivateSubnetIds or NodeRoleArn");
  const std::map<std::string, std::string> tags = {
      {"byoc", "true"}, {"byoc-environment", environment.id}, {kActionTag, token}};
  for (const auto& spec : plan.create) {
    spdlog::info("environment {}: creating node group {} ({})", environment.id, spec.name, spec.instance_type);
    std::map<std::string, std::string> named = tags;
    named["Name"] = infra_cluster_name(environment.name) + "-" + spec.name;
    groups.create(spec, subnets, node_role, named, token);
  }
  for (const auto& r : plan.rescale) {
    spdlog::info("environment {}: node group {} scales {}..{}", environment.id, r.name, r.scaling.min, r.scaling.max);
    groups.rescale(r.name, r.scaling, r.set_desired, token);
  }
  for (const auto& name : plan.remove) {
    spdlog::info("environment {}: deleting node group {} (its instance type is no longer listed)", environment.id, name);
    groups.remove(name);
  }
  return !plan.has_work() && !plan.waiting && !plan.failed;
}

void AwsDriver::observe_node_groups_going(const model::Environment& environment, cloud::Observation& o) {
  Client eks = client(environment, Service::kEks);
  std::optional<std::vector<SeenNodeGroup>> seen =
      node_groups(environment, eks, cluster_of(environment, o), "").observe();
  for (const auto& g : seen ? *seen : std::vector<SeenNodeGroup>{})
    if (g.status == "DELETE_FAILED") {
      o.failure = cloud::Failure::kDeleteFailed;
      o.reason = cloud::failure_code(o.failure);
      o.message = "EKS node group " + g.name + " could not be deleted" + (g.health.empty() ? "" : ": " + g.health) +
                  " (the cluster, and so the stack, goes once it has)";
      o.last_token = environment.cloud_token;
      return;
    }
}

// EKS deletes no cluster with a node group on it, and the groups are not the
// stack's (the upgrader's replacements never were): they go first. Deletes
// each one not going already; true once none is left (or there is no cluster).
bool AwsDriver::remove_node_groups(const model::Environment& environment) {
  Client eks = client(environment, Service::kEks);
  NodeGroupControl groups = node_groups(environment, eks, infra_cluster_name(environment.name), "delete_environment");
  std::optional<std::vector<SeenNodeGroup>> seen = groups.observe();
  if (!seen) return true;  // no cluster: nothing on it
  for (const auto& g : *seen) {
    if (g.status == "DELETING") continue;
    spdlog::info("environment {}: deleting node group {} before the stack", environment.id, g.name);
    groups.remove(g.name);
  }
  return seen->empty();
}

// A stack made before the node groups were the driver's names them as
// AWS::EKS::Nodegroup resources: dropped from its template, CloudFormation
// would delete them, nodes and pods with them. First, under the same
// template, parameters and tags (so it is still out of date after), each is
// marked DeletionPolicy Retain; the next update drops them from the stack
// and leaves them running, for the driver to keep. True when that first
// update was sent.
bool AwsDriver::retain_stack_node_groups(Client& cfn, const json& stack, const std::string& token) {
  for (const auto& output : stack.value("Outputs", json::array()))
    if (output.value("OutputKey", "") == kNodeGroupsOutput) return false;
  const std::string stack_id = stack.value("StackId", "");
  json answer;
  try {
    answer = cfn.call("GetTemplate", {{"StackName", stack_id}, {"TemplateStage", "Original"}});
  } catch (const AwsCallError& e) {
    if (e.aws().code != "AccessDenied" && e.aws().code != "AccessDeniedException") throw;
    // An onboarding stack deployed before its policy allowed GetTemplate.
    throw Error::Forbidden("the stack " + stack.value("StackName", "") +
                           " still holds its node groups, and reading its template needs "
                           "cloudformation:GetTemplate: update the onboarding stack to byoc's current template, "
                           "then retry");
  }
  json body = json::parse(answer.value("TemplateBody", "{}"));
  bool changed = false;
  if (body.is_object() && body.contains("Resources") && body["Resources"].is_object())
    for (auto& [logical_id, resource] : body["Resources"].items()) {
      if (!resource.is_object() || resource.value("Type", "") != "AWS::EKS::Nodegroup" ||
          resource.value("DeletionPolicy", "") == "Retain")
        continue;
      resource["DeletionPolicy"] = "Retain";
      changed = true;
    }
  if (!changed) return false;
  json parameters = json::array();
  for (const auto& p : stack.value("Parameters", json::array()))
    parameters.push_back({{"ParameterKey", p.value("ParameterKey", "")}, {"UsePreviousValue", true}});
  json tags = json::array();
  for (const auto& t : stack.value("Tags", json::array()))
    tags.push_back({{"Key", t.value("Key", "")}, {"Value", t.value("Value", "")}});
  spdlog::info("stack {}: retaining its node groups before they leave the template", stack_id);
  json update = {{"StackName", stack_id}, {"TemplateBody", body.dump()}, {"Tags", tags}, {"ClientRequestToken", token}};
  if (!parameters.empty()) update["Parameters"] = parameters;
  cfn.call("UpdateStack", update);
  return true;
}

std::unique_ptr<cloud::ClusterUpgradeClients> AwsDriver::cluster_upgrade_clients(const model::Environment& environment) {
  const std::string cluster_name = infra_cluster_name(environment.name);
  // Each call into the customer's cluster is in the environment's audit log
  // before it is sent, as the agent's install is.
  return std::make_unique<AwsClusterUpgradeClients>(std::make_unique<Client>(client(environment, Service::kEks)),
                                                    cluster_name, cluster(environment, cluster_name),
                                                    cluster_call_recorder(options_, environment, cluster_name, ""));
}

}  // namespace byoc::aws
