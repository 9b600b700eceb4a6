// The bearer token an EKS cluster's API server accepts for an IAM identity,
// as aws-iam-authenticator and `aws eks get-token` make it: an STS
// GetCallerIdentity request, presigned (60 s) with the cluster's name in the
// signed header x-k8s-aws-id, base64url-encoded after "k8s-aws-v1.". The API
// server calls that URL at STS to learn who signed it, so no secret leaves
// byoc; a token is good for 15 minutes from its signing time. Pure: the time
// is a parameter.
#pragma once

#include <string>

#include "base/clock.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/endpoints.h"

namespace byoc::aws {

struct EksToken {
  std::string token;  // "k8s-aws-v1.…": the Authorization: Bearer value
  TimePoint expires;  // 15 minutes after signing (refresh before)
};

// `sts` is STS's endpoint for the cluster's region (resolve_endpoint(), which
// fills its parts), so
// AWS_ENDPOINT_URL_STS applies as it does to every STS call. Throws
// byoc::Error kInvalid for an empty cluster name or credentials.
EksToken make_eks_token(const Credentials& credentials, const ServiceEndpoint& sts, const std::string& cluster_name,
                        TimePoint now);

}  // namespace byoc::aws
