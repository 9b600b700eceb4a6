// The network half of the infra template: what plan_network carved, made
// into VPC, subnets, gateways and routes.
#include "cloud/aws/templates/cfn_json.h"
#include "cloud/aws/templates/infra_parts.h"

namespace byoc::aws::infra {
namespace {

json tagged(const Document& doc, const std::string& suffix, json extra = json::array()) {
  json tags = cfn::tags(doc.prefix() + suffix);
  for (auto& t : extra) tags.push_back(std::move(t));
  return tags;
}

json kubernetes_role_tag(const std::string& role) {
  return json::array({{{"Key", "kubernetes.io/role/" + role}, {"Value", "1"}}});
}

}  // namespace

void add_network(Document& doc, const NetworkPlan& plan) {
  const auto& o = doc.options;
  json& r = doc.resources;
  r["Vpc"] = {{"Type", "AWS::EC2::VPC"},
              {"Properties",
               {{"CidrBlock", plan.vpc.str()},
                // EKS needs both for its private endpoint's DNS name.
                {"EnableDnsSupport", true},
                {"EnableDnsHostnames", true},
                {"Tags", tagged(doc, "")}}}};
  r["InternetGateway"] = {{"Type", "AWS::EC2::InternetGateway"}, {"Properties", {{"Tags", tagged(doc, "")}}}};
  r["InternetGatewayAttachment"] = {
      {"Type", "AWS::EC2::VPCGatewayAttachment"},
      {"Properties", {{"VpcId", cfn::ref("Vpc")}, {"InternetGatewayId", cfn::ref("InternetGateway")}}}};
  r["PublicRouteTable"] = {{"Type", "AWS::EC2::RouteTable"},
                           {"Properties", {{"VpcId", cfn::ref("Vpc")}, {"Tags", tagged(doc, "-public")}}}};
  r["PublicDefaultRoute"] = {{"Type", "AWS::EC2::Route"},
                             {"DependsOn", "InternetGatewayAttachment"},
                             {"Properties",
                              {{"RouteTableId", cfn::ref("PublicRouteTable")},
                               {"DestinationCidrBlock", "0.0.0.0/0"},
                               {"GatewayId", cfn::ref("InternetGateway")}}}};

  const size_t nat_count = o.nat == NatMode::kPerZone ? plan.zones.size() : 1;
  for (size_t i = 0; i < plan.zones.size(); ++i) {
    const auto& zone = plan.zones[i];
    const std::string n = std::to_string(i + 1);
    r["PublicSubnet" + n] = {
        {"Type", "AWS::EC2::Subnet"},
        {"Properties",
         {{"VpcId", cfn::ref("Vpc")},
          {"AvailabilityZone", zone.zone},
          {"CidrBlock", zone.public_subnet.str()},
          // Only NAT gateways and load balancers live here; nothing gets a
          // public address by accident.
          {"MapPublicIpOnLaunch", false},
          {"Tags", tagged(doc, "-public-" + zone.zone, kubernetes_role_tag("elb"))}}}};
    r["PublicSubnet" + n + "RouteTableAssociation"] = {
        {"Type", "AWS::EC2::SubnetRouteTableAssociation"},
        {"Properties", {{"SubnetId", cfn::ref("PublicSubnet" + n)}, {"RouteTableId", cfn::ref("PublicRouteTable")}}}};
    r["PrivateSubnet" + n] = {
        {"Type", "AWS::EC2::Subnet"},
        {"Properties",
         {{"VpcId", cfn::ref("Vpc")},
          {"AvailabilityZone", zone.zone},
          {"CidrBlock", zone.private_subnet.str()},
          {"MapPublicIpOnLaunch", false},
          {"Tags", tagged(doc, "-private-" + zone.zone, kubernetes_role_tag("internal-elb"))}}}};
    if (i < nat_count) {
      r["NatAddress" + n] = {{"Type", "AWS::EC2::EIP"},
                             {"DependsOn", "InternetGatewayAttachment"},
                             {"Properties", {{"Domain", "vpc"}, {"Tags", tagged(doc, "-nat-" + zone.zone)}}}};
      r["NatGateway" + n] = {{"Type", "AWS::EC2::NatGateway"},
                             {"Properties",
                              {{"SubnetId", cfn::ref("PublicSubnet" + n)},
                               {"AllocationId", cfn::get_att("NatAddress" + n, "AllocationId")},
                               {"Tags", tagged(doc, "-nat-" + zone.zone)}}}};
    }
    const std::string table = "PrivateRouteTable" + n;
    r[table] = {{"Type", "AWS::EC2::RouteTable"},
                {"Properties", {{"VpcId", cfn::ref("Vpc")}, {"Tags", tagged(doc, "-private-" + zone.zone)}}}};
    // With one NAT gateway every zone leaves through the first zone's.
    r["PrivateDefaultRoute" + n] = {
        {"Type", "AWS::EC2::Route"},
        {"Properties",
         {{"RouteTableId", cfn::ref(table)},
          {"DestinationCidrBlock", "0.0.0.0/0"},
          {"NatGatewayId", cfn::ref("NatGateway" + (i < nat_count ? n : std::string("1")))}}}};
    r["PrivateSubnet" + n + "RouteTableAssociation"] = {
        {"Type", "AWS::EC2::SubnetRouteTableAssociation"},
        {"Properties", {{"SubnetId", cfn::ref("PrivateSubnet" + n)}, {"RouteTableId", cfn::ref(table)}}}};
    doc.private_route_tables.push_back(table);
    doc.egress.push_back("PrivateDefaultRoute" + n);
    doc.egress.push_back("PrivateSubnet" + n + "RouteTableAssociation");
    doc.egress.push_back("PublicSubnet" + n + "RouteTableAssociation");
  }

  doc.egress.push_back("PublicDefaultRoute");

  // Backups and images from S3 stay off the NAT gateways (and their bill).
  json tables = json::array({cfn::ref("PublicRouteTable")});
  for (const auto& t : doc.private_route_tables) tables.push_back(cfn::ref(t));
  r["S3GatewayEndpoint"] = {{"Type", "AWS::EC2::VPCEndpoint"},
                            {"Properties",
                             {{"VpcId", cfn::ref("Vpc")},
                              {"VpcEndpointType", "Gateway"},
                              {"ServiceName", cfn::sub("com.amazonaws.${AWS::Region}.s3")},
                              {"RouteTableIds", tables},
                              {"Tags", tagged(doc, "-s3")}}}};
}

}  // namespace byoc::aws::infra
