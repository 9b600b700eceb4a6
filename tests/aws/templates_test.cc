// The onboarding and infra templates, structurally: references resolve, the
// onboarding policy grants exactly vendor_actions() and nothing with a
// wildcard, every taggable resource carries byoc=true, no security group
// admits traffic from outside the VPC, and each variant of the issue's list
// has the resources it promises. (Schema validity: cfn_validate.mjs.)
#include <gtest/gtest.h>

#include "plan/catalogue.h"
#include "plan/profiles.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include "base/error.h"
#include "cloud/aws/network_plan.h"
#include "cloud/aws/templates/vendor_actions.h"
#include "template_checks.h"
#include "template_variants.h"

namespace byoc::aws {
namespace {

using nlohmann::json;
using testing::granted_actions;
using testing::infra_variants;
using testing::onboarding_variants;

std::vector<std::pair<std::string, json>> rendered_onboarding() {
  std::vector<std::pair<std::string, json>> out;
  for (auto& [name, o] : onboarding_variants()) out.emplace_back(name, render_onboarding_template(o));
  return out;
}

std::vector<std::pair<std::string, json>> rendered_infra() {
  std::vector<std::pair<std::string, json>> out;
  for (auto& [name, o] : infra_variants()) out.emplace_back(name, render_infra_template(o));
  return out;
}

std::vector<json> of_type(const json& tmpl, const std::string& type) {
  std::vector<json> out;
  for (auto& [_, r] : tmpl["Resources"].items())
    if (r["Type"] == type) out.push_back(r);
  return out;
}

std::vector<json> statements(const json& tmpl) {
  std::vector<json> out;
  for (const auto& r : of_type(tmpl, "AWS::IAM::ManagedPolicy"))
    for (const auto& st : r["Properties"]["PolicyDocument"]["Statement"]) out.push_back(st);
  return out;
}

bool is_read_only(const std::string& action) {
  std::string verb = action.substr(action.find(':') + 1);
  return verb.starts_with("Describe") || verb.starts_with("Get") || verb.starts_with("List") ||
         action == "iam:SimulatePrincipalPolicy";
}

template <typename F>
std::string error_field(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid) << e.what();
    return e.field();
  }
  return "(accepted)";
}

TEST(Templates, EveryReferenceResolves) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::unresolved_references(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::unresolved_references(t), std::vector<std::string>{}) << name;
}

TEST(Templates, TheReferenceCheckCatchesDanglingNames) {
  json t = render_infra_template(testing::base_infra());
  t["Resources"]["Cluster"]["DependsOn"] = "Nowhere";
  t["Resources"]["Vpc"]["Properties"]["CidrBlock"] = {{"Fn::Sub", "${Missing}-${AWS::Region}-${Vpc.CidrBlock}"}};
  t["Resources"]["Cluster"]["Properties"]["RoleArn"] = {{"Fn::GetAtt", json::array({"Ghost", "Arn"})}};
  t["Outputs"]["X"] = {{"Value", {{"Ref", "Phantom"}}}};
  auto problems = testing::unresolved_references(t);
  EXPECT_EQ(problems.size(), 4u) << json(problems).dump();
}

TEST(Templates, NoWildcardActionAnywhere) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::wildcard_actions(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::wildcard_actions(t), std::vector<std::string>{}) << name;
  for (const auto& a : vendor_actions()) EXPECT_EQ(a.find('*'), std::string::npos) << a;
}

TEST(Templates, EveryTaggableResourceIsTaggedByoc) {
  for (auto& [name, t] : rendered_onboarding()) EXPECT_EQ(testing::untagged_resources(t), std::vector<std::string>{}) << name;
  for (auto& [name, t] : rendered_infra()) EXPECT_EQ(testing::untagged_resources(t), std::vector<std::string>{}) << name;
}

// ---- onboarding ----

const json& resource(const json& tmpl, const std::string& logical) { return tmpl["Resources"][logical]; }

bool has_action(const json& st, const std::string& action) {
  json actions = st["Action"].is_array() ? st["Action"] : json::array({st["Action"]});
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

std::string arn_text(const json& r) { return r.is_string() ? r.get<std::string>() : r["Fn::Sub"].get<std::string>(); }

std::vector<std::string> resources_of(const json& st) {
  std::vector<std::string> out;
  if (st["Resource"] == "*") return {"*"};
  for (const auto& r : st["Resource"]) out.push_back(arn_text(r));
  return out;
}

TEST(OnboardingTemplate, RoleIsTrustedOnlyByTheManagementPrincipalWithTheExternalId) {
  auto variants = rendered_onboarding();
  for (auto& [name, t] : variants) {
    const json& trust = resource(t, "ManagementRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"];
    ASSERT_EQ(trust.size(), 1u) << name;
    EXPECT_EQ(trust[0]["Effect"], "Allow");
    EXPECT_EQ(trust[0]["Action"], "sts:AssumeRole");
    EXPECT_EQ(trust[0]["Condition"], json({{"StringEquals", {{"sts:ExternalId", {{"Ref", "ExternalId"}}}}}}));
    EXPECT_EQ(t["Parameters"]["ExternalId"]["Default"], "byoc-env-7f3a9c");
    EXPECT_EQ(t["Outputs"]["RoleArn"]["Value"], json({{"Fn::GetAtt", {"ManagementRole", "Arn"}}}));
  }
  // One role of the vendor's account, not the account's root.
  EXPECT_EQ(resource(variants[0].second, "ManagementRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
                    ["Principal"],
            json({{"AWS", {{"Fn::Sub", "arn:${AWS::Partition}:iam::111122223333:role/byoc-management-plane"}}}}));
  EXPECT_EQ(resource(variants[1].second, "ManagementRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
                    ["Principal"],
            json({{"AWS", "arn:aws:iam::111122223333:role/ops/byoc-control"}}));
  EXPECT_EQ(variants[0].second["Parameters"]["RoleName"]["Default"], "ByocManagementRole");
}

// What the management plane calls itself and what CloudFormation calls for
// the infra template's resources, written out by hand: a change to
// vendor_actions.cc must change this list too, on purpose.
const std::set<std::string>& expected_vendor_actions() {
  static const std::set<std::string> actions = {
      // management plane (driver and pre-flight)
      "sts:GetCallerIdentity", "ec2:DescribeAvailabilityZones", "ec2:DescribeInstanceTypeOfferings",
      "ec2:DescribeVpcs", "ec2:DescribeSubnets", "servicequotas:GetServiceQuota",
      "servicequotas:GetAWSDefaultServiceQuota", "eks:ListClusters", "elasticloadbalancing:DescribeLoadBalancers",
      "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents", "cloudformation:GetTemplate",
      "eks:DescribeCluster", "iam:SimulatePrincipalPolicy", "iam:GetRole",
      // stack
      "cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack",
      // network
      "ec2:CreateVpc", "ec2:ModifyVpcAttribute", "ec2:DeleteVpc", "ec2:DescribeVpcAttribute", "ec2:CreateSubnet",
      "ec2:ModifySubnetAttribute", "ec2:DeleteSubnet", "ec2:CreateInternetGateway", "ec2:DeleteInternetGateway",
      "ec2:DescribeInternetGateways", "ec2:AttachInternetGateway", "ec2:DetachInternetGateway",
      "ec2:AllocateAddress", "ec2:ReleaseAddress", "ec2:DescribeAddresses", "ec2:CreateNatGateway",
      "ec2:DeleteNatGateway", "ec2:DescribeNatGateways", "ec2:CreateRouteTable", "ec2:DeleteRouteTable",
      "ec2:DescribeRouteTables", "ec2:CreateRoute", "ec2:ReplaceRoute", "ec2:DeleteRoute", "ec2:AssociateRouteTable",
      "ec2:DisassociateRouteTable", "ec2:CreateVpcEndpoint", "ec2:ModifyVpcEndpoint", "ec2:DeleteVpcEndpoints",
      "ec2:DescribeVpcEndpoints", "ec2:DescribePrefixLists", "ec2:CreateSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress", "ec2:DeleteSecurityGroup", "ec2:DescribeSecurityGroups",
      "ec2:DescribeSecurityGroupRules", "ec2:CreateVpcEndpointServiceConfiguration",
      "ec2:ModifyVpcEndpointServiceConfiguration", "ec2:DeleteVpcEndpointServiceConfigurations",
      "ec2:DescribeVpcEndpointServiceConfigurations", "ec2:ModifyVpcEndpointServicePermissions",
      "ec2:DescribeVpcEndpointServicePermissions", "ec2:CreateTags", "ec2:DeleteTags",
      // identity: read and pass the onboarding stack's roles, service-linked roles
      "iam:PassRole", "iam:CreateServiceLinkedRole",
      // cluster
      "eks:CreateCluster", "eks:DeleteCluster", "eks:UpdateClusterConfig", "eks:UpdateClusterVersion",
      "eks:DescribeUpdate", "eks:CreateNodegroup", "eks:DeleteNodegroup", "eks:UpdateNodegroupConfig",
      "eks:UpdateNodegroupVersion", "eks:DescribeNodegroup", "eks:ListNodegroups", "eks:TagResource",
      "eks:UntagResource",
      // the VPC CNI add-on (NetworkPolicy enforcement)
      "eks:CreateAddon", "eks:UpdateAddon", "eks:DeleteAddon", "eks:DescribeAddon", "eks:ListTagsForResource",
      // backups and endpoints
      "s3:CreateBucket", "s3:PutBucketTagging", "s3:GetBucketTagging", "s3:PutEncryptionConfiguration",
      "s3:GetEncryptionConfiguration", "s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock",
      "s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls", "s3:PutBucketVersioning",
      "s3:GetBucketVersioning", "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:AddTags",
      "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyLoadBalancerAttributes",
      "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:RemoveTags",
      "elasticloadbalancing:DescribeLoadBalancerAttributes", "elasticloadbalancing:DescribeTags"};
  return actions;
}

TEST(OnboardingTemplate, GrantsExactlyTheVendorActions) {
  auto wanted = vendor_actions();
  const std::set<std::string> listed(wanted.begin(), wanted.end());
  // The list itself, against the hand-written one.
  EXPECT_EQ(listed, expected_vendor_actions());
  for (auto& [name, t] : rendered_onboarding()) {
    // The rendered policies grant the list, no more, no less…
    EXPECT_EQ(granted_actions(t), listed) << name;
    // …and are exactly what the pre-flight simulates.
    json embedded = json::object();
    for (auto& [logical, r] : t["Resources"].items())
      if (r["Type"] == "AWS::IAM::ManagedPolicy") embedded[logical] = r["Properties"]["PolicyDocument"];
    json simulated = onboarding_policy_documents("");
    ASSERT_EQ(embedded.size(), simulated.size());
    for (auto& [policy, document] : simulated.items()) {
      std::string logical = policy;
      logical[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(logical[0])));
      EXPECT_EQ(embedded[logical + "Policy"], document) << name << " " << policy;
    }
  }
  for (std::string a : {"s3:DeleteBucket", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:CreateLogGroup",
                        "servicequotas:ListServiceQuotas"})
    EXPECT_FALSE(listed.count(a)) << a;
}

TEST(OnboardingTemplate, NoIamWritesButPassingTheOnboardingRoles) {
  for (const auto& a : vendor_actions()) {
    if (!a.starts_with("iam:")) continue;
    EXPECT_TRUE(a == "iam:PassRole" || a == "iam:GetRole" || a == "iam:SimulatePrincipalPolicy" ||
                a == "iam:CreateServiceLinkedRole")
        << a << " lets the vendor change IAM";
  }
  for (std::string a : {"iam:CreateRole", "iam:DeleteRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
                        "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:TagRole",
                        "iam:UntagRole", "iam:UpdateRole", "iam:CreatePolicy", "iam:CreatePolicyVersion"}) {
    auto all = vendor_actions();
    EXPECT_FALSE(std::binary_search(all.begin(), all.end(), a)) << a;
  }
}

TEST(OnboardingTemplate, PassRoleOnlyOfTheOnboardingStacksRolesToTheirServices) {
  for (auto& [name, t] : rendered_onboarding()) {
    std::map<std::string, json> passed;  // role ARN pattern -> services
    for (json st : statements(t)) {
      if (!has_action(st, "iam:PassRole")) continue;
      EXPECT_EQ(st["Action"].size(), 1u) << name;
      ASSERT_EQ(st["Resource"].size(), 1u) << name;
      passed[arn_text(st["Resource"][0])] = st["Condition"]["StringEquals"]["iam:PassedToService"];
    }
    const std::string role = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/byoc/${RoleName}";
    EXPECT_EQ(passed, (std::map<std::string, json>{{role + "-EksCluster", json({"eks.amazonaws.com"})},
                                                   {role + "-EksNode",
                                                    json({"eks.amazonaws.com", "ec2.amazonaws.com"})}}))
        << name;
    // Those patterns name exactly the roles the stack creates.
    for (std::string logical : {"ClusterRole", "NodeRole"}) {
      const json& p = resource(t, logical)["Properties"];
      EXPECT_EQ(p["Path"], "/byoc/");
      std::string suffix = logical == "ClusterRole" ? "-EksCluster" : "-EksNode";
      EXPECT_EQ(p["RoleName"], json({{"Fn::Sub", "${RoleName}" + suffix}}));
      EXPECT_TRUE(passed.count(role + suffix));
      for (const auto& arn : p["ManagedPolicyArns"]) {
        const auto& allowed = eks_managed_policy_arns();
        EXPECT_NE(std::find(allowed.begin(), allowed.end(), arn["Fn::Sub"].get<std::string>()), allowed.end());
      }
    }
    EXPECT_EQ(resource(t, "ClusterRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
              json({{"Service", "eks.amazonaws.com"}}));
    EXPECT_EQ(resource(t, "NodeRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
              json({{"Service", "ec2.amazonaws.com"}}));
    EXPECT_EQ(t["Outputs"]["ClusterRoleArn"]["Value"], json({{"Fn::GetAtt", {"ClusterRole", "Arn"}}}));
    EXPECT_EQ(t["Outputs"]["NodeRoleArn"]["Value"], json({{"Fn::GetAtt", {"NodeRole", "Arn"}}}));
  }
  // The infra template makes no role: it takes the onboarding stack's.
  for (auto& [name, o] : infra_variants()) {
    json infra = render_infra_template(o);
    EXPECT_TRUE(of_type(infra, "AWS::IAM::Role").empty()) << name;
    EXPECT_EQ(infra["Parameters"]["ClusterRoleArn"]["Default"],
              "arn:aws:iam::444455556666:role/byoc/" + o.onboarding_role_name + "-EksCluster")
        << name;
    EXPECT_EQ(infra["Parameters"]["NodeRoleArn"]["Default"],
              "arn:aws:iam::444455556666:role/byoc/" + o.onboarding_role_name + "-EksNode")
        << name;
    EXPECT_EQ(resource(infra, "Cluster")["Properties"]["RoleArn"], json({{"Ref", "ClusterRoleArn"}}));
    // The driver hands the node role to the node groups it makes.
    EXPECT_EQ(infra["Outputs"]["NodeRoleArn"]["Value"], json({{"Ref", "NodeRoleArn"}}));
  }
}

TEST(OnboardingTemplate, PeeringAccepterRoleOnlyWithAPeerAccount) {
  auto variants = rendered_onboarding();
  EXPECT_FALSE(variants[0].second["Resources"].contains("PeeringAccepterRole"));
  const json& role = resource(variants[1].second, "PeeringAccepterRole")["Properties"];
  EXPECT_EQ(role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"],
            json({{"AWS", {{"Fn::Sub", "arn:${AWS::Partition}:iam::777788889999:root"}}}}));
  EXPECT_EQ(role["Path"], "/byoc/");
  const json& accept = role["Policies"][0]["PolicyDocument"]["Statement"];
  ASSERT_EQ(accept.size(), 2u);
  for (const auto& st : accept) EXPECT_EQ(st["Action"], "ec2:AcceptVpcPeeringConnection");
  EXPECT_EQ(accept[0]["Condition"]["StringEquals"]["aws:ResourceTag/byoc"], "true");
  EXPECT_TRUE(variants[1].second["Outputs"].contains("PeeringAccepterRoleArn"));
}

TEST(OnboardingTemplate, EveryInfraResourceTypeHasItsActions) {
  auto verb = [](const std::string& a) { return a.substr(a.find(':') + 1); };
  auto is_create = [&](const std::string& a) {
    std::string v = verb(a);
    return v.starts_with("Create") || v.starts_with("Allocate") || v.starts_with("Attach") ||
           v.starts_with("Associate");
  };
  auto is_delete = [&](const std::string& a) {
    std::string v = verb(a);
    return v.starts_with("Delete") || v.starts_with("Release") || v.starts_with("Detach") ||
           v.starts_with("Disassociate");
  };
  std::map<std::string, const ResourceActions*> groups;
  for (const auto& g : vendor_action_groups()) groups[g.resource_type] = &g;
  for (auto& [name, t] : rendered_infra()) {
    for (auto& [logical, r] : t["Resources"].items()) {
      const std::string type = r["Type"];
      ASSERT_TRUE(groups.count(type)) << name << " " << logical << " " << type;
      bool create = false, remove = false;
      for (const auto& grant : groups[type]->grants)
        for (const auto& a : grant.actions) {
          create = create || is_create(a);
          remove = remove || is_delete(a);
        }
      // Endpoint service permissions are added and removed by one Modify call.
      if (type == "AWS::EC2::VPCEndpointServicePermissions") create = remove = true;
      EXPECT_TRUE(create) << type << " has no create action";
      // Retained resources (the backup bucket) are never deleted by the vendor.
      if (r.value("DeletionPolicy", "") == "Retain")
        EXPECT_FALSE(remove) << type << " is retained, yet the vendor may delete it";
      else
        EXPECT_TRUE(remove) << type << " has no delete action";
    }
  }
}

TEST(OnboardingTemplate, OnlyReadsGoUnfenced) {
  for (auto& [name, t] : rendered_onboarding()) {
    for (json st : statements(t)) {
      if (st["Resource"] != "*" || st.contains("Condition")) continue;
      for (const auto& a : st["Action"]) EXPECT_TRUE(is_read_only(a)) << name << " " << a << " is on * unconditioned";
    }
  }
}

// Creates tag the resource they make (on its own ARN type, never "*"), and
// every existing resource they touch is byoc's: a create statement carries
// aws:RequestTag/byoc on the created type or aws:ResourceTag/byoc on a parent.
TEST(OnboardingTemplate, CreatesRequireTheTagAndChangesATaggedResource) {
  for (auto& [name, t] : rendered_onboarding()) {
    std::map<std::string, std::map<std::string, std::string>> fences;  // action -> resource -> "request"/"resource"
    int changes = 0;
    for (json st : statements(t)) {
      json c = st.value("Condition", json::object());
      // (The tag-on-create statement, fenced by <service>:CreateAction, is
      // checked by TagsOnlyByocResourcesOrOnCreate.)
      const bool request = c.contains("StringEquals") && c["StringEquals"].contains("aws:RequestTag/byoc") &&
                           !c["StringEquals"].contains("ec2:CreateAction") &&
                           !c["StringEquals"].contains("elasticloadbalancing:CreateAction");
      const bool tagged = c.contains("StringEquals") && c["StringEquals"].contains("aws:ResourceTag/byoc");
      if (request) {
        EXPECT_NE(st["Resource"], "*") << name << " a create on * would accept any parent: " << st.dump();
        EXPECT_EQ(c["StringEquals"]["aws:RequestTag/byoc"], "true");
      }
      if (tagged) {
        EXPECT_EQ(c["StringEquals"]["aws:ResourceTag/byoc"], "true");
      }
      for (const auto& a : st["Action"]) {
        const std::string action = a;
        std::string verb = action.substr(action.find(':') + 1);
        if (!action.starts_with("ec2:")) continue;
        if ((verb.starts_with("Create") || verb == "AllocateAddress") && verb != "CreateTags" && verb != "CreateRoute")
          for (const auto& r : resources_of(st)) fences[action][r] = request ? "request" : tagged ? "resource" : "named";
        if ((verb.starts_with("Delete") || verb.starts_with("Modify") || verb.starts_with("Replace") ||
             verb.starts_with("Attach") || verb.starts_with("Associate") || verb.starts_with("Revoke") ||
             verb == "CreateRoute") &&
            verb != "DeleteTags") {
          EXPECT_TRUE(tagged) << name << " " << action << " on " << st["Resource"].dump();
          ++changes;
        }
      }
    }
    const std::string ec2 = "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:";
    using F = std::map<std::string, std::string>;
    EXPECT_EQ(fences["ec2:CreateVpc"], (F{{ec2 + "vpc/*", "request"}}));
    EXPECT_EQ(fences["ec2:CreateSubnet"], (F{{ec2 + "subnet/*", "request"}, {ec2 + "vpc/*", "resource"}}));
    EXPECT_EQ(fences["ec2:CreateNatGateway"], (F{{ec2 + "natgateway/*", "request"},
                                                 {ec2 + "subnet/*", "resource"},
                                                 {ec2 + "elastic-ip/*", "resource"}}));
    EXPECT_EQ(fences["ec2:CreateRouteTable"], (F{{ec2 + "route-table/*", "request"}, {ec2 + "vpc/*", "resource"}}));
    EXPECT_EQ(fences["ec2:CreateSecurityGroup"],
              (F{{ec2 + "security-group/*", "request"}, {ec2 + "vpc/*", "resource"}}));
    EXPECT_EQ(fences["ec2:CreateVpcEndpoint"], (F{{ec2 + "vpc-endpoint/*", "request"},
                                                  {ec2 + "vpc/*", "resource"},
                                                  {ec2 + "route-table/*", "resource"},
                                                  {"arn:${AWS::Partition}:ec2:*:*:vpc-endpoint-service/*", "named"}}));
    EXPECT_EQ(fences["ec2:AllocateAddress"], (F{{ec2 + "elastic-ip/*", "request"}}));
    EXPECT_EQ(fences["ec2:CreateInternetGateway"], (F{{ec2 + "internet-gateway/*", "request"}}));
    EXPECT_EQ(fences["ec2:CreateVpcEndpointServiceConfiguration"], (F{{ec2 + "vpc-endpoint-service/*", "request"}}));
    EXPECT_GT(changes, 10) << name;
  }
}

// No tag-then-takeover: a tagging call is admitted only on a resource that
// already carries byoc=true, or as the tag-on-create of one of byoc's creates.
TEST(OnboardingTemplate, TagsOnlyByocResourcesOrOnCreate) {
  const std::set<std::string> tagging = {"ec2:CreateTags",      "eks:TagResource",  "elasticloadbalancing:AddTags",
                                         "iam:TagRole",         "logs:TagResource", "cloudformation:TagResource",
                                         "s3:PutBucketTagging", "iam:TagPolicy"};
  for (auto& [name, t] : rendered_onboarding()) {
    int seen = 0;
    for (json st : statements(t)) {
      for (const auto& a : st["Action"]) {
        if (!tagging.count(a)) continue;
        ++seen;
        json eq = st.value("Condition", json::object()).value("StringEquals", json::object());
        const std::string service = a.get<std::string>().substr(0, a.get<std::string>().find(':'));
        if (a == "s3:PutBucketTagging") {
          // S3 fences by the bucket's name (byoc-*-<account>-*), not by tag.
          ASSERT_EQ(st["Resource"].size(), 1u);
          EXPECT_EQ(arn_text(st["Resource"][0]), "arn:${AWS::Partition}:s3:::byoc-*-${AWS::AccountId}-*");
          continue;
        }
        bool on_byoc = eq.value("aws:ResourceTag/byoc", "") == "true";
        bool on_create = eq.contains(service + ":CreateAction") && eq.value("aws:RequestTag/byoc", "") == "true";
        EXPECT_TRUE(on_byoc || on_create) << name << " " << a << " may tag what isn't byoc's: " << st.dump();
      }
    }
    EXPECT_GE(seen, 4) << name;
  }
}

TEST(OnboardingTemplate, FencesByNameWhereAServiceKeysByName) {
  for (auto& [name, t] : rendered_onboarding()) {
    for (json st : statements(t)) {
      if (st["Resource"] == "*") continue;
      json eq = st.value("Condition", json::object()).value("StringEquals", json::object());
      const bool tag_fenced = eq.contains("aws:RequestTag/byoc") || eq.contains("aws:ResourceTag/byoc");
      for (const auto& arn : resources_of(st)) {
        bool fenced = arn.find("/byoc-") != std::string::npos ||
                      arn == "arn:${AWS::Partition}:s3:::byoc-*-${AWS::AccountId}-*" ||
                      arn.ends_with("role/${RoleName}") || arn.find("role/byoc/${RoleName}-") != std::string::npos ||
                      arn.ends_with("role/aws-service-role/*") ||
                      (arn.find(":ec2:") != std::string::npos && tag_fenced) ||
                      // new parts of a byoc resource, the parent checked by its own statement
                      arn.ends_with(":security-group-rule/*") || arn.ends_with(":vpc-endpoint-service/*");
        EXPECT_TRUE(fenced) << name << " " << arn;
      }
    }
  }
}

TEST(OnboardingTemplate, PermissionsBoundaryGoesOnTheDataPlaneRoles) {
  auto variants = rendered_onboarding();
  for (auto& [name, t] : variants)
    for (json st : statements(t))
      EXPECT_FALSE(st.value("Condition", json::object()).value("StringEquals", json::object()).contains(
          "iam:PermissionsBoundary"));
  for (std::string logical : {"ClusterRole", "NodeRole"}) {
    EXPECT_FALSE(resource(variants[0].second, logical)["Properties"].contains("PermissionsBoundary"));
    EXPECT_EQ(resource(variants[1].second, logical)["Properties"]["PermissionsBoundary"],
              "arn:aws:iam::444455556666:policy/byoc-boundary");
  }
  EXPECT_EQ(resource(variants[1].second, "PeeringAccepterRole")["Properties"]["PermissionsBoundary"],
            "arn:aws:iam::444455556666:policy/byoc-boundary");
  EXPECT_FALSE(resource(variants[1].second, "ManagementRole")["Properties"].contains("PermissionsBoundary"));
}

TEST(OnboardingTemplate, EachPolicyFitsIamsSizeLimit) {
  for (auto& [name, t] : rendered_onboarding()) {
    auto policies = of_type(t, "AWS::IAM::ManagedPolicy");
    EXPECT_EQ(policies.size(), 4u);  // stack, network, cluster, identity
    for (const auto& p : policies) EXPECT_LE(p["Properties"]["PolicyDocument"].dump().size(), 6144u) << name;
  }
}

TEST(OnboardingTemplate, QuickCreateUrl) {
  EXPECT_EQ(onboarding_quick_create_url("eu-west-1", "https://b.s3.amazonaws.com/onboarding.json", "byoc-onboarding",
                                        "id+/=1"),
            "https://console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/quickcreate?templateURL="
            "https%3A%2F%2Fb.s3.amazonaws.com%2Fonboarding.json&stackName=byoc-onboarding&param_ExternalId=id%2B%2F%3D1");
}

TEST(OnboardingTemplate, RefusesBadOptions) {
  OnboardingOptions good = onboarding_variants()[0].second;
  auto with = [&](auto change) {
    OnboardingOptions o = good;
    change(o);
    return error_field([&] { render_onboarding_template(o); });
  };
  EXPECT_EQ(with([](auto& o) { o.management_account = "12345"; }), "management_account");
  EXPECT_EQ(with([](auto& o) { o.external_id = "x"; }), "external_id");
  EXPECT_EQ(with([](auto& o) { o.external_id = "has space"; }), "external_id");
  EXPECT_EQ(with([](auto& o) { o.permissions_boundary = "boundary"; }), "permissions_boundary");
  EXPECT_EQ(with([](auto& o) { o.role_name = ""; }), "role_name");
  EXPECT_EQ(with([](auto& o) { o.role_name = "byoc-admin"; }), "role_name");  // inside its own fence
  EXPECT_EQ(with([](auto& o) { o.role_name = std::string(49, 'R'); }), "role_name");
  EXPECT_EQ(with([](auto& o) { o.management_principal = "arn:aws:iam::999988887777:role/x"; }), "management_principal");
  EXPECT_EQ(with([](auto& o) { o.management_principal = "arn:aws:iam::111122223333:root"; }), "management_principal");
  EXPECT_EQ(with([](auto& o) { o.peer_account = "12"; }), "peer_account");
}

// ---- infra ----

TEST(InfraTemplate, FitsCloudFormationsTemplateBodyLimit) {
  for (auto& [name, t] : rendered_infra()) EXPECT_LE(t.dump().size(), 51200u) << name;
}

TEST(InfraTemplate, EksApiAdmitsExactlyTheGivenCidrsOrIsPrivate) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    const json& vpc = t["Resources"]["Cluster"]["Properties"]["ResourcesVpcConfig"];
    EXPECT_EQ(vpc["EndpointPrivateAccess"], true);
    if (o.private_api) {
      EXPECT_EQ(vpc["EndpointPublicAccess"], false) << name;
      EXPECT_FALSE(vpc.contains("PublicAccessCidrs")) << name;
    } else {
      EXPECT_EQ(vpc["EndpointPublicAccess"], true) << name;
      EXPECT_EQ(vpc["PublicAccessCidrs"], json(o.api_allowed_cidrs)) << name;
    }
    EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["Logging"]["ClusterLogging"]["EnabledTypes"],
              json::parse(R"([{"Type":"api"},{"Type":"audit"},{"Type":"authenticator"}])"));
  }
}

TEST(InfraTemplate, NoSecurityGroupAdmitsAnythingFromOutsideTheVpc) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    Ipv4Cidr vpc = *parse_ipv4_cidr(o.cidr);
    EXPECT_TRUE(of_type(t, "AWS::EC2::SecurityGroupIngress").empty());
    auto groups = of_type(t, "AWS::EC2::SecurityGroup");
    EXPECT_EQ(groups.size(), 2u);
    for (const auto& g : groups) {
      for (const auto& rule : g["Properties"].value("SecurityGroupIngress", json::array())) {
        ASSERT_TRUE(rule.contains("CidrIp")) << rule;  // no prefix lists, groups or IPv6 from elsewhere
        EXPECT_FALSE(rule.contains("CidrIpv6"));
        auto cidr = parse_ipv4_cidr(rule["CidrIp"].get<std::string>());
        ASSERT_TRUE(cidr);
        EXPECT_TRUE(vpc.contains(*cidr)) << name << " " << rule;
      }
    }
  }
}

TEST(InfraTemplate, SubnetsAndNatFollowThePlan) {
  for (auto& [name, o] : infra_variants()) {
    if (!o.existing.vpc_id.empty()) continue;
    json t = render_infra_template(o);
    NetworkPlan plan = plan_network(o.cidr, o.zones);
    const json& r = t["Resources"];
    EXPECT_EQ(r["Vpc"]["Properties"]["CidrBlock"], o.cidr);
    EXPECT_EQ(of_type(t, "AWS::EC2::Subnet").size(), 2 * o.zones.size());
    for (size_t i = 0; i < plan.zones.size(); ++i) {
      std::string n = std::to_string(i + 1);
      EXPECT_EQ(r["PrivateSubnet" + n]["Properties"]["CidrBlock"], plan.zones[i].private_subnet.str());
      EXPECT_EQ(r["PublicSubnet" + n]["Properties"]["CidrBlock"], plan.zones[i].public_subnet.str());
      EXPECT_EQ(r["PrivateSubnet" + n]["Properties"]["AvailabilityZone"], o.zones[i]);
      std::string nat = r["PrivateDefaultRoute" + n]["Properties"]["NatGatewayId"]["Ref"];
      EXPECT_EQ(nat, o.nat == NatMode::kPerZone ? "NatGateway" + n : "NatGateway1") << name;
    }
    size_t nats = o.nat == NatMode::kPerZone ? o.zones.size() : 1;
    EXPECT_EQ(of_type(t, "AWS::EC2::NatGateway").size(), nats) << name;
    EXPECT_EQ(of_type(t, "AWS::EC2::EIP").size(), nats) << name;
    EXPECT_EQ(of_type(t, "AWS::EC2::InternetGateway").size(), 1u);
    EXPECT_EQ(of_type(t, "AWS::EC2::SubnetRouteTableAssociation").size(), 2 * o.zones.size());
    EXPECT_EQ(r["S3GatewayEndpoint"]["Properties"]["RouteTableIds"].size(), o.zones.size() + 1);
  }
}

TEST(InfraTemplate, ExistingVpcHasNoNetworkResources) {
  for (auto& [name, o] : infra_variants()) {
    if (o.existing.vpc_id.empty()) continue;
    json t = render_infra_template(o);
    for (std::string type : {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway",
                             "AWS::EC2::VPCGatewayAttachment", "AWS::EC2::NatGateway", "AWS::EC2::EIP",
                             "AWS::EC2::RouteTable", "AWS::EC2::Route", "AWS::EC2::SubnetRouteTableAssociation",
                             "AWS::EC2::VPCEndpoint"})
      EXPECT_TRUE(of_type(t, type).empty()) << type;
    EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["ResourcesVpcConfig"]["SubnetIds"],
              json(o.existing.private_subnets));
    // The subnets the driver puts the node groups in.
    EXPECT_EQ(t["Outputs"]["PrivateSubnetIds"]["Value"],
              json({{"Fn::Join", {",", o.existing.private_subnets}}}));
    EXPECT_EQ(t["Outputs"]["VpcId"]["Value"], o.existing.vpc_id);
    EXPECT_EQ(t["Resources"]["EndpointSecurityGroup"]["Properties"]["VpcId"], o.existing.vpc_id);
  }
}

// The node groups are the driver's, through the EKS API (its tests:
// node_groups_test.cc): the stack names none, and says so, which tells the
// driver a stack made before (one that does) from one made now.
TEST(InfraTemplate, TheStackMakesNoNodeGroupsAndSaysSo) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    EXPECT_TRUE(of_type(t, "AWS::EKS::Nodegroup").empty()) << name;
    EXPECT_EQ(t["Outputs"][kNodeGroupsOutput]["Value"], "eks-api") << name;
    // What the driver needs of the stack to make them.
    for (const char* output : {"ClusterName", "NodeRoleArn", "PrivateSubnetIds"})
      EXPECT_TRUE(t["Outputs"].contains(output)) << name << " " << output;
  }
}

// The version is a parameter the driver keeps on update: a newer default in
// a later byoc doesn't move a running cluster, nor ask EKS for the version
// the upgrader moved it to.
TEST(InfraTemplate, TheClusterVersionIsAParameterDefaultingToTheOptions) {
  for (auto& [name, o] : infra_variants()) {
    json t = render_infra_template(o);
    EXPECT_EQ(t["Resources"]["Cluster"]["Properties"]["Version"], json({{"Ref", "KubernetesVersion"}})) << name;
    const json& parameter = t["Parameters"]["KubernetesVersion"];
    EXPECT_EQ(parameter["Default"], o.eks_version) << name;
    EXPECT_TRUE(std::regex_match(o.eks_version, std::regex(parameter["AllowedPattern"].get<std::string>())));
    EXPECT_FALSE(std::regex_match(std::string("latest"), std::regex(parameter["AllowedPattern"].get<std::string>())));
  }
}

// The services rely on NetworkPolicies, which EKS enforces only with the
// VPC CNI's network policy agent: the managed add-on, configured so.
TEST(InfraTemplate, TheVpcCniAddOnEnforcesNetworkPolicies) {
  for (auto& [name, t] : rendered_infra()) {
    auto addons = of_type(t, "AWS::EKS::Addon");
    ASSERT_EQ(addons.size(), 1u) << name;
    const json& addon = t["Resources"]["VpcCniAddon"];
    ASSERT_EQ(addon["Type"], "AWS::EKS::Addon") << name;
    const json& p = addon["Properties"];
    EXPECT_EQ(p["AddonName"], "vpc-cni");
    EXPECT_EQ(p["ClusterName"], json({{"Ref", "Cluster"}}));
    EXPECT_EQ(json::parse(p["ConfigurationValues"].get<std::string>()), json({{"enableNetworkPolicy", "true"}}));
    // It takes over the CNI EKS installs with the cluster, and never takes
    // pod networking away from running nodes.
    EXPECT_EQ(p["ResolveConflicts"], "OVERWRITE");
    EXPECT_EQ(p["PreserveOnDelete"], true);
    EXPECT_FALSE(p.contains("ServiceAccountRoleArn"));  // the node role's CNI policy serves it
    EXPECT_FALSE(p.contains("PodIdentityAssociations"));
  }
  // The node role carries the CNI's managed policy.
  const auto& managed = eks_managed_policy_arns();
  EXPECT_NE(std::find(managed.begin(), managed.end(), "arn:${AWS::Partition}:iam::aws:policy/AmazonEKS_CNI_Policy"),
            managed.end());
}

// What CloudFormation's AWS::EKS::Addon handlers call for this add-on, the
// onboarding role may, fenced like the cluster: a create tags byoc=true on a
// byoc- cluster, changes and deletes need the add-on tagged byoc=true.
TEST(OnboardingTemplate, GrantsTheVpcCniAddOnItsActionsFenced) {
  const std::string addons = "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:addon/byoc-*/*/*";
  const std::string clusters = "arn:${AWS::Partition}:eks:*:${AWS::AccountId}:cluster/byoc-*";
  for (auto& [name, t] : rendered_onboarding()) {
    std::map<std::string, std::vector<json>> by_action;  // the statements granting each add-on action
    for (json st : statements(t))
      for (const auto& a : st["Action"]) by_action[a].push_back(st);
    auto only = [&](const std::string& action) -> json {
      EXPECT_EQ(by_action[action].size(), 1u) << name << " " << action;
      return by_action[action].empty() ? json::object() : by_action[action][0];
    };
    json create = only("eks:CreateAddon");
    EXPECT_EQ(resources_of(create), (std::vector<std::string>{clusters, addons})) << name;
    EXPECT_EQ(create["Condition"]["StringEquals"]["aws:RequestTag/byoc"], "true") << name;
    for (std::string change : {"eks:UpdateAddon", "eks:DeleteAddon"}) {
      json st = only(change);
      EXPECT_EQ(resources_of(st), std::vector<std::string>{addons}) << name << " " << change;
      EXPECT_EQ(st["Condition"]["StringEquals"]["aws:ResourceTag/byoc"], "true") << name << " " << change;
    }
    for (std::string read : {"eks:DescribeAddon", "eks:ListTagsForResource", "eks:DescribeUpdate"}) {
      json st = only(read);
      auto arns = resources_of(st);
      EXPECT_NE(std::find(arns.begin(), arns.end(), addons), arns.end()) << name << " " << read;
      EXPECT_EQ(std::find(arns.begin(), arns.end(), "*"), arns.end()) << name << " " << read;
    }
    for (std::string tagging : {"eks:TagResource", "eks:UntagResource"}) {
      json st = only(tagging);
      auto arns = resources_of(st);
      EXPECT_NE(std::find(arns.begin(), arns.end(), addons), arns.end()) << name << " " << tagging;
      EXPECT_EQ(st["Condition"]["StringEquals"]["aws:ResourceTag/byoc"], "true") << name << " " << tagging;
    }
  }
}

TEST(InfraTemplate, BackupBucketIsPrivateEncryptedAndKept) {
  json t = render_infra_template(testing::base_infra());
  const json& b = t["Resources"]["BackupBucket"];
  EXPECT_EQ(b["DeletionPolicy"], "Retain");
  // Named per environment id: a re-created "prod" gets a new bucket.
  EXPECT_EQ(b["Properties"]["BucketName"]["Fn::Sub"], "byoc-prod-${AWS::AccountId}-e7f3a9c0");
  EXPECT_EQ(b["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
             ["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
            "AES256");
  for (auto& [k, v] : b["Properties"]["PublicAccessBlockConfiguration"].items()) EXPECT_EQ(v, true) << k;
  EXPECT_EQ(b["Properties"]["PublicAccessBlockConfiguration"].size(), 4u);
  EXPECT_EQ(b["Properties"]["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced");
  // EKS makes (and keeps) its log group; the stack owns none, so the vendor
  // needs no CloudWatch Logs write.
  EXPECT_TRUE(of_type(t, "AWS::Logs::LogGroup").empty());
  EXPECT_EQ(t["Outputs"]["ClusterLogGroup"]["Value"], "/aws/eks/byoc-prod/cluster");
}

TEST(InfraTemplate, OutputsWhatTheDriverReads) {
  for (auto& [name, t] : rendered_infra())
    for (std::string key : {"VpcId", "PrivateSubnetIds", "ClusterName", "ClusterEndpoint",
                            "ClusterCertificateAuthority", "NodeRoleArn", "BackupBucketName", "EndpointServiceId"})
      EXPECT_TRUE(t["Outputs"].contains(key)) << name << " " << key;
}

TEST(InfraTemplate, EndpointServiceAndPeering) {
  json t = render_infra_template(testing::base_infra());
  EXPECT_EQ(t["Parameters"]["EndpointPrincipals"]["Default"], "arn:aws:iam::111122223333:root");
  EXPECT_EQ(t["Resources"]["EndpointServicePermissions"]["Properties"]["AllowedPrincipals"],
            json({{"Ref", "EndpointPrincipals"}}));
  EXPECT_EQ(t["Resources"]["EndpointLoadBalancer"]["Properties"]["Scheme"], "internal");
  EXPECT_FALSE(t["Resources"].contains("PeeringAccepterRole"));
  auto variants = infra_variants();
  auto peering = std::find_if(variants.begin(), variants.end(), [](auto& v) { return v.first == "infra-6zones-largest"; });
  json p = render_infra_template(peering->second);
  EXPECT_EQ(of_type(p, "AWS::EC2::Route").size(), 1 + 6 + 6u);  // public default, private defaults, peer routes
  EXPECT_EQ(p["Resources"]["PeeringRoute1"]["Condition"], "HasPeeringRoutes");
  EXPECT_FALSE(p["Resources"].contains("PeeringAccepterRole"));  // the onboarding stack's
}

TEST(InfraTemplate, RefusesBadOptions) {
  auto with = [](auto change) {
    InfraOptions o = testing::base_infra();
    change(o);
    return error_field([&] { render_infra_template(o); });
  };
  EXPECT_EQ(with([](auto& o) { o.name = "Prod"; }), "name");
  EXPECT_EQ(with([](auto& o) { o.name = "a-very-long-environment-name"; }), "name");
  EXPECT_EQ(with([](auto& o) { o.region = "mars"; }), "region");
  EXPECT_EQ(with([](auto& o) { o.zones = {"us-east-1a", "us-west-2b"}; }), "zones");
  EXPECT_EQ(with([](auto& o) { o.cidr = "10.0.0.0/24"; }), "cidr");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs.clear(); }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs = {"0.0.0.0/0"}; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.api_allowed_cidrs = {"203.0.113.1/24"}; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.private_api = true; }), "api_allowed_cidrs");
  EXPECT_EQ(with([](auto& o) { o.endpoint_principals = {"*"}; }), "endpoint_principals");
  EXPECT_EQ(with([](auto& o) { o.eks_version = "latest"; }), "eks_version");
  EXPECT_EQ(with([](auto& o) { o.eks_version = "1.24"; }), "eks_version");  // no NetworkPolicy enforcement
  EXPECT_EQ(with([](auto& o) { o.eks_version = "1.25"; }), "(accepted)");
  EXPECT_EQ(with([](auto& o) { o.environment_id = ""; }), "environment_id");
  EXPECT_EQ(with([](auto& o) { o.environment_id = "Env_1"; }), "environment_id");
  EXPECT_EQ(with([](auto& o) { o.account = "1234"; }), "account");
  EXPECT_EQ(with([](auto& o) { o.onboarding_role_name = "byoc-x"; }), "onboarding_role_name");
  EXPECT_EQ(with([](auto& o) { o.cidr = "10.0.0.1/16"; }), "cidr");
  EXPECT_EQ(with([](auto& o) { o.zones = {"us-east-1a", "us-east-1a"}; }), "zones");
  EXPECT_EQ(with([](auto& o) { o.existing.private_subnets = {"subnet-0a000000000000001"}; }), "existing_vpc");
  EXPECT_EQ(with([](auto& o) {
              o.existing.vpc_id = "vpc-0abc12345678def90";
              o.existing.private_subnets = {"subnet-0a000000000000001"};
            }),
            "private_subnets");
}

}  // namespace
}  // namespace byoc::aws
