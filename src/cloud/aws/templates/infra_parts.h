// The pieces of the infra template (infra_template.h), one file each, filling
// one shared document. Internal to src/cloud/aws/templates.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cloud/aws/network_plan.h"
#include "cloud/aws/templates/infra_template.h"

namespace byoc::aws::infra {

using nlohmann::json;

struct Document {
  const InfraOptions& options;
  Ipv4Cidr vpc_cidr;
  json parameters = json::object();
  json conditions = json::object();
  json resources = json::object();
  json outputs = json::object();

  bool builds_network() const { return options.existing.vpc_id.empty(); }
  std::string prefix() const { return "byoc-" + options.name; }  // every byoc name starts here
  json vpc_id() const;                     // Ref Vpc, or the existing id
  json private_subnet_ids() const;         // list
  json public_subnet_ids() const;          // list (may be empty with an existing VPC)
  std::vector<std::string> private_route_tables;  // logical ids (built network only)
  // What makes the private subnets reach the internet (routes to NAT and
  // their associations, and the public default route and associations the
  // NAT gateways leave by): nodes wait for it, or they can't join the cluster.
  std::vector<std::string> egress;
};

// VPC, subnets, gateways, NAT, route tables, S3 gateway endpoint.
void add_network(Document& doc, const NetworkPlan& plan);
// Role parameters, EKS cluster, node groups.
void add_cluster(Document& doc);
// Backup bucket, NLB + endpoint service, peering routes.
void add_endpoints(Document& doc);

}  // namespace byoc::aws::infra
