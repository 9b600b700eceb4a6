// Which URL an AWS service is called at, as the AWS SDKs resolve it:
// AWS_ENDPOINT_URL_<SERVICE> (the model's serviceId upper-cased, spaces to
// underscores: _STS, _CLOUDFORMATION, _EKS, _EC2, _IAM, _S3, _SERVICE_QUOTAS…),
// then AWS_ENDPOINT_URL, then the public endpoint of the region's partition
// (IAM is global: iam.amazonaws.com, signed for us-east-1). Pure.
#pragma once

#include <string>
#include <string_view>

#include "cloud/aws/credentials.h"

namespace byoc::aws {

struct ServiceEndpoint {
  std::string url;             // scheme://host[:port] with no trailing slash (a path, if configured, kept;
                               // the scheme's default port dropped: curl leaves it out of the Host header)
  std::string signing_region;  // the region the signature names
  bool configured = false;     // true when it came from AWS_ENDPOINT_URL*
  // `url`'s parts, so callers build request URLs and the signed Host without parsing it again.
  std::string scheme;     // "https" or "http"
  std::string authority;  // host[:port], as the Host header carries it
  std::string path;       // "" or "/a/b", no trailing slash
};

// `service_id` and `endpoint_prefix` are the model's metadata. Throws
// byoc::Error kInvalid (field = the variable) for a configured URL that is
// not http(s)://host[:port][/path], or for a malformed region.
ServiceEndpoint resolve_endpoint(std::string_view service_id, std::string_view endpoint_prefix,
                                 std::string_view region, const EnvLookup& env);

}  // namespace byoc::aws
