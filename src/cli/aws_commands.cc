// `byoc aws sign-request`: signs one HTTP request (the AWS suites' text form,
// on standard input or --request FILE) with SigV4 and prints the signed
// request. Offline and deterministic (the time is a flag): for checking a
// signature against another SDK's, or against a SignatureDoesNotMatch answer.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include "base/error.h"
#include "cli/resource_commands.h"
#include "cloud/aws/sigv4.h"

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

}  // namespace

void add_aws_commands(CLI::App& app, CommandSet& commands) {
  auto* aws = app.add_subcommand("aws", "AWS tools that need no server: request signing");
  aws->require_subcommand(1);
  add_sign_request(aws, commands);
}

}  // namespace byoc::cli
