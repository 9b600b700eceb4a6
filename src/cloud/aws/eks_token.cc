#include "cloud/aws/eks_token.h"

#include "base/crypto.h"
#include "base/error.h"
#include "cloud/aws/sigv4.h"

namespace byoc::aws {
namespace {

constexpr const char* kPrefix = "k8s-aws-v1.";
// The presigned URL's own lifetime, as aws-iam-authenticator signs it; the
// API server accepts the token for 15 minutes from X-Amz-Date regardless.
constexpr int64_t kPresignSeconds = 60;
constexpr auto kTokenLifetime = std::chrono::minutes(15);

}  // namespace

EksToken make_eks_token(const Credentials& credentials, const ServiceEndpoint& sts, const std::string& cluster_name,
                        TimePoint now) {
  if (cluster_name.empty()) throw Error::Invalid("invalid_cluster", "an EKS token names its cluster", "cluster");
  const std::string scheme_end = "://";
  auto authority_start = sts.url.find(scheme_end);
  if (authority_start == std::string::npos)
    throw Error::Invalid("aws_endpoint_invalid", "STS endpoint `" + sts.url + "` has no scheme");
  authority_start += scheme_end.size();
  auto path_start = sts.url.find('/', authority_start);
  const std::string authority = sts.url.substr(authority_start, path_start - authority_start);
  const std::string base_path = path_start == std::string::npos ? "" : sts.url.substr(path_start);

  SigningRequest request;
  request.method = "GET";
  request.path_and_query = base_path + "/?Action=GetCallerIdentity&Version=2011-06-15";
  request.headers = {{"Host", authority}, {"x-k8s-aws-id", cluster_name}};
  SigningParams params;
  params.access_key = credentials.access_key_id;
  params.secret_key = credentials.secret_access_key;
  params.session_token = credentials.session_token;
  params.region = sts.signing_region;
  params.service = "sts";
  params.time = now;
  params.expires_seconds = kPresignSeconds;
  SigningResult signed_request = sign(request, params);
  const std::string url = sts.url.substr(0, authority_start) + authority + signed_request.signed_request.path_and_query;
  return {kPrefix + crypto::base64url(url), now + kTokenLifetime};
}

}  // namespace byoc::aws
