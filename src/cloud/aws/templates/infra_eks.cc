// The cluster half of the infra template: the EKS cluster (run as the
// onboarding stack's roles, given as parameters) and its VPC CNI add-on
// (which enforces NetworkPolicies). Its node groups are the driver's.
#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/infra_parts.h"
#include "cloud/aws/templates/onboarding_template.h"
#include "cloud/aws/templates/vendor_actions.h"

namespace byoc::aws::infra {
namespace {

// A role ARN parameter, defaulting to the onboarding stack's role.
json role_parameter(const Document& doc, const std::string& suffix, const std::string& what) {
  const auto& o = doc.options;
  return {{"Type", "String"},
          {"Default", data_plane_role_arn(o.account, o.region, o.onboarding_role_name, suffix)},
          {"AllowedPattern", std::string(R"(arn:aws(-[a-z]+)*:iam::\d{12}:role)") + kDataPlaneRolePath +
                                 R"([\w+=,.@-]+)"},
          {"Description", what + " (the onboarding stack's output; under " + kDataPlaneRolePath + ")"}};
}

constexpr const char* kVpcCniAddon = "VpcCniAddon";

// The VPC CNI as an EKS add-on with its network policy agent on: without it
// EKS accepts NetworkPolicies and enforces none, and the services rely on
// theirs (the services' namespace denies all ingress, ClickHouse and
// ZooKeeper admit only their peers, the agent only the endpoints). Needs
// EKS 1.25 and the add-on 1.14, older than EKS's default version of it for
// any cluster version it still makes, so no version is pinned.
json vpc_cni_addon(const Document& doc) {
  return {{"Type", "AWS::EKS::Addon"},
          {"Properties",
           {{"ClusterName", cfn::ref("Cluster")},
            {"AddonName", "vpc-cni"},
            {"ConfigurationValues", R"({"enableNetworkPolicy":"true"})"},
            // EKS installs the CNI itself with the cluster: the add-on takes it over.
            {"ResolveConflicts", "OVERWRITE"},
            // Whatever becomes of the add-on, running nodes keep their pod network.
            {"PreserveOnDelete", true},
            {"Tags", cfn::tags(doc.prefix() + "-vpc-cni")}}}};
}

}  // namespace

void add_cluster(Document& doc) {
  const auto& o = doc.options;
  json& r = doc.resources;
  doc.parameters["ClusterRoleArn"] = role_parameter(doc, kClusterRoleSuffix, "The EKS cluster role");
  doc.parameters["NodeRoleArn"] = role_parameter(doc, kNodeRoleSuffix, "The EKS node role");
  // The version the cluster is made with. Later ones come from byoc's
  // upgrader (EKS's own calls, node group by node group), never from a stack
  // update: the driver updates the stack with this parameter's previous
  // value, so a byoc release with a newer default doesn't move a running
  // cluster, nor does the stack ask EKS for a version the cluster has.
  doc.parameters[kKubernetesVersionParameter] = {
      {"Type", "String"},
      {"Default", o.eks_version},
      {"AllowedPattern", R"(1\.\d+)"},
      {"Description", "The Kubernetes version the EKS cluster is created with"}};

  r["ClusterSecurityGroup"] = {
      {"Type", "AWS::EC2::SecurityGroup"},
      {"Properties",
       {{"GroupDescription", "EKS control plane of " + doc.prefix() + ": HTTPS from inside the VPC only"},
        {"VpcId", doc.vpc_id()},
        {"SecurityGroupIngress",
         json::array({{{"IpProtocol", "tcp"},
                       {"FromPort", 443},
                       {"ToPort", 443},
                       {"CidrIp", doc.vpc_cidr.str()},
                       {"Description", "Kubernetes API from the VPC"}}})},
        {"Tags", cfn::tags(doc.prefix() + "-cluster")}}}};

  // EKS writes its control-plane logs to this group, which it creates itself
  // (never expiring): the customer's own record of every call the vendor
  // makes to the cluster. Not a stack resource, so the vendor needs no
  // CloudWatch Logs write, and it outlives the stack.
  const std::string log_group = "/aws/eks/" + infra_cluster_name(o.name) + "/cluster";

  json vpc_config = {{"SubnetIds", doc.private_subnet_ids()},
                     {"SecurityGroupIds", json::array({cfn::ref("ClusterSecurityGroup")})},
                     {"EndpointPrivateAccess", true},
                     {"EndpointPublicAccess", !o.private_api}};
  if (!o.private_api) vpc_config["PublicAccessCidrs"] = o.api_allowed_cidrs;
  r["Cluster"] = {
      {"Type", "AWS::EKS::Cluster"},
      {"Properties",
       {{"Name", infra_cluster_name(o.name)},
        {"Version", cfn::ref(kKubernetesVersionParameter)},
        {"RoleArn", cfn::ref("ClusterRoleArn")},
        {"ResourcesVpcConfig", vpc_config},
        {"Logging",
         {{"ClusterLogging",
           {{"EnabledTypes", json::array({{{"Type", "api"}}, {{"Type", "audit"}}, {{"Type", "authenticator"}}})}}}}},
        // Access entries, not the aws-auth ConfigMap; the creator (the
        // onboarding role, through CloudFormation) bootstraps the agent.
        {"AccessConfig", {{"AuthenticationMode", "API"}, {"BootstrapClusterCreatorAdminPermissions", true}}},
        {"Tags", cfn::tags(infra_cluster_name(o.name))}}}};

  r[kVpcCniAddon] = vpc_cni_addon(doc);

  // The node groups are not the stack's: the driver keeps them through the
  // EKS API once the stack is complete (driver/node_groups.h), so the
  // upgrader's replacements never leave the stack naming groups that are
  // gone. Being made after the stack, the nodes come up with their way out
  // (NAT routes) and the CNI that enforces NetworkPolicies already there.
  doc.outputs[kNodeGroupsOutput] = {{"Value", "eks-api"}};
  doc.outputs["ClusterName"] = {{"Value", cfn::ref("Cluster")}};
  doc.outputs["ClusterEndpoint"] = {{"Value", cfn::get_att("Cluster", "Endpoint")}};
  doc.outputs["ClusterCertificateAuthority"] = {{"Value", cfn::get_att("Cluster", "CertificateAuthorityData")}};
  doc.outputs["ClusterSecurityGroupId"] = {{"Value", cfn::get_att("Cluster", "ClusterSecurityGroupId")}};
  doc.outputs["NodeRoleArn"] = {{"Value", cfn::ref("NodeRoleArn")}};
  doc.outputs["ClusterLogGroup"] = {{"Value", log_group}};
}

}  // namespace byoc::aws::infra
