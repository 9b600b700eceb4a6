// The cluster half of the infra template: IAM roles, the control-plane log
// group, the EKS cluster and its node groups.
#include <algorithm>
#include <cctype>

#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/infra_parts.h"
#include "cloud/aws/templates/vendor_actions.h"

namespace byoc::aws::infra {
namespace {

json trust(const std::string& service) {
  return {{"Version", "2012-10-17"},
          {"Statement",
           json::array({{{"Effect", "Allow"}, {"Principal", {{"Service", service}}}, {"Action", "sts:AssumeRole"}}})}};
}

json managed_policy(const std::string& name) {
  for (const auto& arn : eks_managed_policy_arns())
    if (arn.size() > name.size() && arn.compare(arn.size() - name.size(), name.size(), name) == 0 &&
        arn[arn.size() - name.size() - 1] == '/')
      return cfn::sub(arn);
  return nullptr;  // unreachable: every name below is in the list
}

json role(const Document& doc, const std::string& suffix, const std::string& service,
          const std::vector<std::string>& policies) {
  json arns = json::array();
  for (const auto& p : policies) arns.push_back(managed_policy(p));
  json props = {{"RoleName", doc.prefix() + suffix},
                {"AssumeRolePolicyDocument", trust(service)},
                {"ManagedPolicyArns", arns},
                {"Tags", cfn::tags(doc.prefix() + suffix)}};
  if (!doc.options.permissions_boundary.empty()) props["PermissionsBoundary"] = doc.options.permissions_boundary;
  return {{"Type", "AWS::IAM::Role"}, {"Properties", props}};
}

// "m6i.xlarge" → "m6i-xlarge": a node group name and a logical-id stem.
std::string group_name(const std::string& instance_type) {
  std::string s = instance_type;
  std::replace(s.begin(), s.end(), '.', '-');
  return s;
}

std::string logical_stem(const std::string& instance_type) {
  std::string s;
  bool upper = true;
  for (char c : instance_type) {
    if (c == '.' || c == '-') {
      upper = true;
      continue;
    }
    s += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return s;
}

// Graviton families carry a `g` after the generation digit (m7g, c7gn,
// r8g); GPU families start with one (g5) and are x86.
bool is_arm(const std::string& instance_type) {
  std::string family = instance_type.substr(0, instance_type.find('.'));
  size_t digit = family.find_first_of("0123456789");
  return digit != std::string::npos && family.find('g', digit) != std::string::npos;
}

json nodegroup(const Document& doc, const std::string& name, const std::string& instance_type, int min, int desired,
               const json& labels, const json& taints) {
  json props = {{"ClusterName", cfn::ref("Cluster")},
                {"NodegroupName", name},
                {"NodeRole", cfn::get_att("NodeRole", "Arn")},
                {"Subnets", doc.private_subnet_ids()},
                {"InstanceTypes", json::array({instance_type})},
                {"AmiType", is_arm(instance_type) ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD"},
                {"CapacityType", "ON_DEMAND"},
                {"ScalingConfig",
                 {{"MinSize", min}, {"DesiredSize", desired}, {"MaxSize", doc.options.max_nodes_per_group}}},
                {"UpdateConfig", {{"MaxUnavailable", 1}}},
                {"Labels", labels},
                {"Tags", {{"byoc", "true"}, {"Name", doc.prefix() + "-" + name}}}};
  if (!taints.empty()) props["Taints"] = taints;
  json group = {{"Type", "AWS::EKS::Nodegroup"}, {"Properties", props}};
  // Subnets alone don't order the nodes after their NAT routes.
  if (!doc.private_egress.empty()) group["DependsOn"] = doc.private_egress;
  return group;
}

}  // namespace

void add_cluster(Document& doc) {
  const auto& o = doc.options;
  json& r = doc.resources;
  r["ClusterRole"] = role(doc, "-cluster", "eks.amazonaws.com", {"AmazonEKSClusterPolicy"});
  r["NodeRole"] = role(doc, "-node", "ec2.amazonaws.com",
                       {"AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"});

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

  // EKS writes its control-plane logs here: the customer's own record of
  // every call the vendor makes to the cluster. Kept after the stack.
  const std::string log_group = "/aws/eks/" + doc.prefix() + "/cluster";
  r["ClusterLogGroup"] = {{"Type", "AWS::Logs::LogGroup"},
                          {"DeletionPolicy", "Retain"},
                          {"UpdateReplacePolicy", "Retain"},
                          {"Properties",
                           {{"LogGroupName", log_group},
                            {"RetentionInDays", 365},
                            {"Tags", cfn::tags(doc.prefix() + "-cluster")}}}};

  json vpc_config = {{"SubnetIds", doc.private_subnet_ids()},
                     {"SecurityGroupIds", json::array({cfn::ref("ClusterSecurityGroup")})},
                     {"EndpointPrivateAccess", true},
                     {"EndpointPublicAccess", !o.private_api}};
  if (!o.private_api) vpc_config["PublicAccessCidrs"] = o.api_allowed_cidrs;
  r["Cluster"] = {
      {"Type", "AWS::EKS::Cluster"},
      {"DependsOn", "ClusterLogGroup"},
      {"Properties",
       {{"Name", infra_cluster_name(o.name)},
        {"Version", o.eks_version},
        {"RoleArn", cfn::get_att("ClusterRole", "Arn")},
        {"ResourcesVpcConfig", vpc_config},
        {"Logging",
         {{"ClusterLogging",
           {{"EnabledTypes", json::array({{{"Type", "api"}}, {{"Type", "audit"}}, {{"Type", "authenticator"}}})}}}}},
        // Access entries, not the aws-auth ConfigMap; the creator (the
        // onboarding role, through CloudFormation) bootstraps the agent.
        {"AccessConfig", {{"AuthenticationMode", "API"}, {"BootstrapClusterCreatorAdminPermissions", true}}},
        {"Tags", cfn::tags(infra_cluster_name(o.name))}}}};

  // The agent, gateway and monitoring run on the system group; ClickHouse
  // runs on the tainted groups, one per instance type, scaled from zero.
  const std::string& system_type = o.instance_types.front();
  r["SystemNodegroup"] = nodegroup(doc, "system", system_type, 1, 2,
                                   {{"byoc.io/role", "system"}, {"byoc.io/instance-type", system_type}}, json::array());
  for (const auto& type : o.instance_types) {
    json taints = json::array({{{"Key", "byoc.io/clickhouse"}, {"Value", "true"}, {"Effect", "NO_SCHEDULE"}}});
    r["Nodegroup" + logical_stem(type)] =
        nodegroup(doc, group_name(type), type, 0, 0,
                  {{"byoc.io/role", "clickhouse"}, {"byoc.io/instance-type", type}}, taints);
  }

  doc.outputs["ClusterName"] = {{"Value", cfn::ref("Cluster")}};
  doc.outputs["ClusterEndpoint"] = {{"Value", cfn::get_att("Cluster", "Endpoint")}};
  doc.outputs["ClusterCertificateAuthority"] = {{"Value", cfn::get_att("Cluster", "CertificateAuthorityData")}};
  doc.outputs["ClusterSecurityGroupId"] = {{"Value", cfn::get_att("Cluster", "ClusterSecurityGroupId")}};
  doc.outputs["NodeRoleArn"] = {{"Value", cfn::get_att("NodeRole", "Arn")}};
  doc.outputs["ClusterLogGroup"] = {{"Value", log_group}};
}

}  // namespace byoc::aws::infra
