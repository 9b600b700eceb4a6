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
  SigningRequest request;
  request.method = "GET";
  request.path_and_query = sts.path + "/?Action=GetCallerIdentity&Version=2011-06-15";
  request.headers = {{"Host", sts.authority}, {"x-k8s-aws-id", cluster_name}};
  SigningParams params;
  params.access_key = credentials.access_key_id;
  params.secret_key = credentials.secret_access_key;
  params.session_token = credentials.session_token;
  params.region = sts.signing_region;
  params.service = "sts";
  params.time = now;
  params.expires_seconds = kPresignSeconds;
  SigningResult signed_request = sign(request, params);
  const std::string url = sts.scheme + "://" + sts.authority + signed_request.signed_request.path_and_query;
  return {kPrefix + crypto::base64url(url), now + kTokenLifetime};
}

}  // namespace byoc::aws
