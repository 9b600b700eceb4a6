// `byoc aws sign-request`: signs one HTTP request (the AWS suites' text form,
// on standard input or --request FILE) with SigV4 and prints the signed
// request. Offline and deterministic (the time is a flag): for checking a
// signature against another SDK's, or against a SignatureDoesNotMatch answer.
//
// `byoc aws onboarding-template` and `byoc aws infra-template`: print the
// CloudFormation templates (JSON, stdout) byoc asks a customer to deploy and
// deploys itself; offline, pure renderers behind them.
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "base/error.h"
#include "cli/resource_commands.h"
#include "cloud/aws/sigv4.h"
#include "cloud/aws/templates/infra_template.h"
#include "cloud/aws/templates/onboarding_template.h"

namespace byoc::cli {
namespace {

std::string read_request(const std::string& path) {
  if (path.empty() || path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::Invalid("unreadable_request", "cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void add_sign_request(CLI::App* aws, CommandSet& commands) {
  struct Flags {
    aws::SigningParams params;
    std::string time;
    int64_t presign = 0;
    std::string request = "-";
  };
  auto f = std::make_shared<Flags>();
  auto* sub = aws->add_subcommand("sign-request", "Sign an HTTP request (read as text) with AWS SigV4 and print it");
  sub->add_option("--access-key", f->params.access_key, "Access key id")->required();
  sub->add_option("--secret-key", f->params.secret_key, "Secret access key")->required();
  sub->add_option("--session-token", f->params.session_token, "Session token (temporary credentials)");
  sub->add_option("--region", f->params.region, "Region, e.g. us-east-1")->required();
  sub->add_option("--service", f->params.service, "Signing name of the service, e.g. sts")->required();
  sub->add_option("--time", f->time, "Signing time, 20150830T123600Z or 2015-08-30T12:36:00Z")->required();
  sub->add_option("--presign", f->presign, "Presign for this many seconds (query form) instead of headers");
  sub->add_option("--request", f->request, "Read the request from this file (default: standard input)");
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        aws::SigningParams p = f->params;
        p.time = *aws::parse_amz_date(f->time);
        p.expires_seconds = f->presign;
        aws::SigningResult r = aws::sign(aws::parse_http_request(read_request(f->request)), p);
        io.out << aws::format_http_request(r.signed_request) << std::flush;
        return 0;
      },
      [f] {
        if (!aws::parse_amz_date(f->time))
          throw CLI::ValidationError("--time", "`" + f->time + "` is not 20150830T123600Z or 2015-08-30T12:36:00Z");
        if (f->presign < 0 || f->presign > 7 * 24 * 3600)
          throw CLI::ValidationError("--presign", "a presigned request lasts 1 to 604800 seconds");
      });
}

void add_onboarding_template(CLI::App* aws, CommandSet& commands) {
  struct Flags {
    aws::OnboardingOptions options;
    std::string region = "us-east-1";
    std::string template_url;
    std::string stack_name = "byoc-onboarding";
  };
  auto f = std::make_shared<Flags>();
  auto* sub = aws->add_subcommand("onboarding-template",
                                  "Print the customer's onboarding CloudFormation template (the role byoc assumes)");
  sub->add_option("--management-account", f->options.management_account, "The vendor's AWS account id (12 digits)")
      ->required();
  sub->add_option("--management-principal", f->options.management_principal,
                  "The role in the management account that may assume this one (default "
                  "arn:aws:iam::<management-account>:role/byoc-management-plane)");
  sub->add_option("--external-id", f->options.external_id, "The environment's ExternalId")->required();
  sub->add_option("--permissions-boundary", f->options.permissions_boundary,
                  "IAM policy ARN set as the permissions boundary of the data-plane roles the stack creates");
  sub->add_option("--role-name", f->options.role_name,
                  "Name of the role (default ByocManagementRole; at most 48 characters, not byoc-…); the data-plane "
                  "roles are named after it");
  sub->add_option("--peer-account", f->options.peer_account,
                  "Create the VPC peering accepter role, assumable by this account (12 digits)");
  sub->add_option("--region", f->region, "Region of the quick-create link (default us-east-1)");
  sub->add_option("--template-url", f->template_url, "Where the template is uploaded (https, S3): prints the "
                                                     "quick-create link on standard error");
  sub->add_option("--stack-name", f->stack_name, "Stack name in the quick-create link (default byoc-onboarding)");
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        nlohmann::json tmpl = aws::render_onboarding_template(f->options);
        io.out << tmpl.dump(2) << "\n" << std::flush;
        if (f->template_url.empty())
          io.err << "upload this template to S3 and pass its URL as --template-url for the quick-create link\n";
        else
          io.err << "quick-create: "
                 << aws::onboarding_quick_create_url(f->region, f->template_url, f->stack_name,
                                                     f->options.external_id)
                 << "\n";
        return 0;
      },
      [f] {
        if (!f->template_url.empty() && f->template_url.rfind("https://", 0) != 0)
          throw CLI::ValidationError("--template-url", "the template URL is an https:// (S3) URL");
      });
}

void add_infra_template(CLI::App* aws, CommandSet& commands) {
  struct Flags {
    aws::InfraOptions options;
    std::string nat = "per-zone";
  };
  auto f = std::make_shared<Flags>();
  auto& o = f->options;
  auto* sub = aws->add_subcommand("infra-template", "Print the data-plane CloudFormation template of an environment");
  sub->add_option("--name", o.name, "Environment name")->required();
  sub->add_option("--environment-id", o.environment_id,
                  "byoc's id of the environment (lowercased; 4 to 16 letters and digits): names the retained backup "
                  "bucket")
      ->required()
      ->transform([](std::string v) {
        for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return v;
      });
  sub->add_option("--account", o.account,
                  "The customer's AWS account id: the cluster and node role ARNs are "
                  "arn:aws:iam::<account>:role/byoc/<onboarding role name>-EksCluster / -EksNode")
      ->required();
  sub->add_option("--onboarding-role-name", o.onboarding_role_name,
                  "The onboarding stack's RoleName (default ByocManagementRole)");
  sub->add_option("--region", o.region, "Region, e.g. us-east-1")->required();
  sub->add_option("--cidr", o.cidr, "VPC CIDR, e.g. 10.0.0.0/16 (the existing VPC's with --existing-vpc)")->required();
  sub->add_option("--zones", o.zones, "Availability zones, comma-separated (2 to 6)")->required()->delimiter(',');
  sub->add_option("--nat", f->nat, "NAT gateways: single or per-zone (default)")
      ->check(CLI::IsMember({"single", "per-zone"}));
  sub->add_option("--eks-version", o.eks_version, "Kubernetes version of the EKS cluster");
  sub->add_option("--api-allowed-cidrs", o.api_allowed_cidrs,
                  "CIDRs allowed to reach the EKS API's public endpoint (the management plane's NAT addresses)")
      ->delimiter(',');
  sub->add_flag("--private-api", o.private_api, "EKS API reachable from inside the VPC only");
  sub->add_option("--existing-vpc", o.existing.vpc_id, "Use this VPC (no network resources are created)");
  sub->add_option("--private-subnets", o.existing.private_subnets, "With --existing-vpc: one private subnet per zone")
      ->delimiter(',');
  sub->add_option("--public-subnets", o.existing.public_subnets, "With --existing-vpc: one public subnet per zone")
      ->delimiter(',');
  sub->add_option("--endpoint-principals", o.endpoint_principals,
                  "IAM principal ARNs allowed to connect to the endpoint service")
      ->delimiter(',');
  sub->add_flag("--peering", o.peering,
                "Add the routes of a VPC peering (the accepter role is the onboarding stack's, --peer-account)");
  on_run(sub, commands, [f, &io = commands.io] {
    f->options.nat = f->nat == "single" ? aws::NatMode::kSingle : aws::NatMode::kPerZone;
    nlohmann::json tmpl = aws::render_infra_template(f->options);
    io.out << tmpl.dump(2) << "\n" << std::flush;
    const auto& e = f->options.existing;
    if (!e.vpc_id.empty()) {
      std::string ids = e.vpc_id;
      for (const auto* list : {&e.private_subnets, &e.public_subnets})
        for (const auto& s : *list) ids += " " + s;
      io.err << "existing VPC: tag it and its subnets byoc=true before deploying (the onboarding role creates "
                "resources only in byoc-tagged networks, and may then change them as byoc resources): "
                "aws ec2 create-tags --tags Key=byoc,Value=true --resources "
             << ids << "\n";
    }
    return 0;
  });
}

}  // namespace

void add_aws_preflight(CLI::App* aws, CommandSet& commands);  // aws_preflight_command.cc

void add_aws_commands(CLI::App& app, CommandSet& commands) {
  auto* aws = app.add_subcommand("aws", "AWS tools that need no server: request signing, CloudFormation templates, the pre-flight");
  aws->require_subcommand(1);
  add_sign_request(aws, commands);
  add_onboarding_template(aws, commands);
  add_infra_template(aws, commands);
  add_aws_preflight(aws, commands);
}

}  // namespace byoc::cli
