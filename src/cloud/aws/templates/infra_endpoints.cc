// The rest of the infra template: the backup bucket, the PrivateLink path to
// service endpoints, and the accepter side of a VPC peering.
#include <numeric>

#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/infra_parts.h"

namespace byoc::aws::infra {
namespace {

// The service endpoint's ports (nginx in front of ClickHouse): HTTPS and the
// native protocol over TLS.
constexpr int kHttpsPort = 443;
constexpr int kNativeTlsPort = 9440;

json not_empty(const json& value) {
  return {{"Fn::Not", json::array({{{"Fn::Equals", json::array({value, ""})}}})}};
}

void add_backup_bucket(Document& doc) {
  doc.resources["BackupBucket"] = {
      {"Type", "AWS::S3::Bucket"},
      // Backups are the customer's data: deleting the stack leaves them.
      {"DeletionPolicy", "Retain"},
      {"UpdateReplacePolicy", "Retain"},
      {"Properties",
       // byoc-<name>-<account>-<environment id>: unique per environment,
       // so a retained bucket never blocks a re-created one.
       {{"BucketName", cfn::sub(doc.prefix() + "-${AWS::AccountId}-" + doc.options.environment_id)},
        {"BucketEncryption",
         {{"ServerSideEncryptionConfiguration",
           json::array({{{"ServerSideEncryptionByDefault", {{"SSEAlgorithm", "AES256"}}}}})}}},
        {"PublicAccessBlockConfiguration",
         {{"BlockPublicAcls", true},
          {"BlockPublicPolicy", true},
          {"IgnorePublicAcls", true},
          {"RestrictPublicBuckets", true}}},
        {"OwnershipControls", {{"Rules", json::array({{{"ObjectOwnership", "BucketOwnerEnforced"}}})}}},
        {"VersioningConfiguration", {{"Status", "Enabled"}}},
        {"Tags", cfn::tags(doc.prefix() + "-backups")}}}};
  doc.outputs["BackupBucketName"] = {{"Value", cfn::ref("BackupBucket")}};
}

void add_endpoint_service(Document& doc) {
  const auto& o = doc.options;
  json ingress = json::array();
  for (int port : {kHttpsPort, kNativeTlsPort})
    ingress.push_back({{"IpProtocol", "tcp"},
                       {"FromPort", port},
                       {"ToPort", port},
                       {"CidrIp", doc.vpc_cidr.str()},
                       {"Description", "service endpoint from the VPC"}});
  doc.resources["EndpointSecurityGroup"] = {
      {"Type", "AWS::EC2::SecurityGroup"},
      {"Properties",
       {{"GroupDescription", "Service endpoints of " + doc.prefix() + ": TLS ports from inside the VPC only"},
        {"VpcId", doc.vpc_id()},
        {"SecurityGroupIngress", ingress},
        {"Tags", cfn::tags(doc.prefix() + "-endpoints")}}}};
  doc.resources["EndpointLoadBalancer"] = {
      {"Type", "AWS::ElasticLoadBalancingV2::LoadBalancer"},
      {"Properties",
       {{"Name", doc.prefix()},
        {"Type", "network"},
        {"Scheme", "internal"},
        {"Subnets", doc.private_subnet_ids()},
        {"SecurityGroups", json::array({cfn::ref("EndpointSecurityGroup")})},
        // PrivateLink clients come from their own VPCs: the endpoint
        // service's allowed principals admit them, not these rules (which
        // stay VPC-only); nginx enforces each service's IP allowlist.
        {"EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic", "off"},
        {"LoadBalancerAttributes", json::array({{{"Key", "load_balancing.cross_zone.enabled"}, {"Value", "true"}}})},
        {"Tags", cfn::tags(doc.prefix())}}}};
  doc.resources["EndpointService"] = {
      {"Type", "AWS::EC2::VPCEndpointService"},
      {"Properties",
       {{"NetworkLoadBalancerArns", json::array({cfn::ref("EndpointLoadBalancer")})},
        {"AcceptanceRequired", false},
        {"Tags", cfn::tags(doc.prefix())}}}};

  std::string principals = std::accumulate(
      o.endpoint_principals.begin(), o.endpoint_principals.end(), std::string(),
      [](std::string acc, const std::string& p) { return acc.empty() ? p : acc + "," + p; });
  doc.parameters["EndpointPrincipals"] = {
      {"Type", "CommaDelimitedList"},
      {"Default", principals},
      {"Description", "IAM principals (ARNs) allowed to connect to the service endpoints over PrivateLink"}};
  doc.conditions["HasEndpointPrincipals"] = not_empty({{"Fn::Join", json::array({"", cfn::ref("EndpointPrincipals")})}});
  doc.resources["EndpointServicePermissions"] = {
      {"Type", "AWS::EC2::VPCEndpointServicePermissions"},
      {"Condition", "HasEndpointPrincipals"},
      {"Properties", {{"ServiceId", cfn::ref("EndpointService")}, {"AllowedPrincipals", cfn::ref("EndpointPrincipals")}}}};
  doc.outputs["EndpointServiceId"] = {{"Value", cfn::ref("EndpointService")}};
  doc.outputs["EndpointLoadBalancerArn"] = {{"Value", cfn::ref("EndpointLoadBalancer")}};
}

// CloudFormation can't accept a peering request; the requester's
// AWS::EC2::VPCPeeringConnection does, through PeerRoleArn: the onboarding
// stack's accepter role (its peer account may assume it, and it can accept
// only peerings into a byoc-tagged VPC). Routes to the peer follow once the
// connection id is known (a stack update with PeeringConnectionId).
void add_peering(Document& doc) {
  doc.parameters["PeerVpcCidr"] = {{"Type", "String"}, {"Default", ""}, {"Description", "The peer VPC's CIDR"}};
  doc.parameters["PeeringConnectionId"] = {
      {"Type", "String"}, {"Default", ""}, {"Description", "pcx-…, once accepted: adds the routes to the peer"}};
  doc.conditions["HasPeeringRoutes"] = {
      {"Fn::And",
       json::array({not_empty(cfn::ref("PeeringConnectionId")), not_empty(cfn::ref("PeerVpcCidr"))})}};

  for (size_t i = 0; i < doc.private_route_tables.size(); ++i) {
    doc.resources["PeeringRoute" + std::to_string(i + 1)] = {
        {"Type", "AWS::EC2::Route"},
        {"Condition", "HasPeeringRoutes"},
        {"Properties",
         {{"RouteTableId", cfn::ref(doc.private_route_tables[i])},
          {"DestinationCidrBlock", cfn::ref("PeerVpcCidr")},
          {"VpcPeeringConnectionId", cfn::ref("PeeringConnectionId")}}}};
  }
}

}  // namespace

void add_endpoints(Document& doc) {
  add_backup_bucket(doc);
  add_endpoint_service(doc);
  if (doc.options.peering) add_peering(doc);
}

}  // namespace byoc::aws::infra
