// `byoc aws preflight`: the pre-flight (cloud/aws/preflight.h) of a
// customer's account, run from the operator's machine with the AWS
// configuration of the environment (as the AWS CLI reads it): assumes the
// onboarding role with its ExternalId and names everything in the way of
// provisioning. Read-only in the customer's account.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/command.h"
#include "cloud/aws/preflight.h"
#include "cloud/aws/session.h"

namespace byoc::cli {

void add_aws_preflight(CLI::App* aws, CommandSet& commands) {
  struct Flags {
    aws::PreflightRequest request;
    std::string nat = "per-zone";
    bool existing_vpc = false;
  };
  auto f = std::make_shared<Flags>();
  auto& r = f->request;
  auto* sub = aws->add_subcommand(
      "preflight", "Check a customer's account before provisioning: the onboarding role, its permissions, zones, "
                   "instance types and quotas (read-only; exit 1 when something is in the way)");
  sub->add_option("--role-arn", r.role_arn, "The onboarding role, arn:aws:iam::ACCOUNT:role/NAME")->required();
  sub->add_option("--external-id", r.external_id, "The environment's ExternalId")->required();
  sub->add_option("--region", r.region, "Region (default: AWS_REGION or the profile's)");
  sub->add_option("--zones", r.zones, "Availability zones, comma-separated")->required()->delimiter(',');
  sub->add_option("--instance-types", r.instance_types, "Node group instance types, comma-separated")
      ->delimiter(',');
  sub->add_option("--nat", f->nat, "NAT gateways: single or per-zone (default)")
      ->check(CLI::IsMember({"single", "per-zone"}));
  sub->add_flag("--existing-vpc", f->existing_vpc, "The environment uses an existing VPC (no VPC, NAT or EIP needed)");
  sub->add_option("--permissions-boundary", r.permissions_boundary, "The permissions boundary given at onboarding");
  sub->add_option("--session-name", r.session_name, "The role session's name in the customer's CloudTrail");
  on_run(sub, commands, [f, &io = commands.io] {
    aws::PreflightRequest request = f->request;
    request.new_vpc = !f->existing_vpc;
    request.nat_gateways = f->existing_vpc ? 0 : f->nat == "single" ? 1 : static_cast<int>(request.zones.size());
    if (request.session_name.empty()) request.session_name = "byoc-preflight-" + std::to_string(io.clock.unix_seconds());
    aws::Session session([env = io.env](std::string_view name) { return env(std::string(name)); }, io.clock,
                         request.region);
    request.region = session.region();
    aws::PreflightReport report = aws::run_preflight(request, session.options());
    io.out << report.to_json().dump(2) << "\n" << std::flush;
    for (const auto& finding : report.findings) io.err << finding.code << ": " << finding.message << "\n";
    return report.ok() ? 0 : 1;
  });
}

}  // namespace byoc::cli
