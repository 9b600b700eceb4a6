// Credentials from the metadata endpoints of where byoc runs.
//
// The EC2 instance metadata service, IMDSv2 only: a PUT for
// a session token, then the role's name and its credentials, each request
// carrying the token. There is no IMDSv1 fallback: an instance that requires
// IMDSv2 (as byoc's own templates configure) and one that doesn't both
// answer the PUT; a service that refuses it is treated as unavailable.
//
// The container credentials endpoint (an ECS task's role, EKS Pod Identity),
// as the AWS SDKs call it: a GET of http://169.254.170.2 followed by
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else of
// AWS_CONTAINER_CREDENTIALS_FULL_URI, with the Authorization header from
// the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE names (read on every call:
// it is rotated) or else from AWS_CONTAINER_AUTHORIZATION_TOKEN. The token is
// never logged nor put in a message.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cloud/aws/credentials.h"

namespace byoc::aws {

// The service's base URL: AWS_EC2_METADATA_SERVICE_ENDPOINT, else the IPv6
// address when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is IPv6, else
// http://169.254.169.254. No trailing slash.
std::string imds_endpoint(const EnvLookup& env);

// True when AWS_EC2_METADATA_DISABLED is "true" (any case).
bool imds_disabled(const EnvLookup& env);

// Asks at `endpoint` through `transport` on every call (wrap it in a
// RefreshingProvider); each request times out after `timeout`. Throws
// byoc::Error kUnavailable "aws_imds_unavailable" when the service doesn't
// answer, refuses the token, has no role, or answers malformed.
std::unique_ptr<CredentialsProvider> make_imds_provider(Transport& transport, std::string endpoint,
                                                        std::chrono::milliseconds timeout = std::chrono::seconds(1));

// True when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
// AWS_CONTAINER_CREDENTIALS_FULL_URI is set (not empty).
bool container_credentials_configured(const EnvLookup& env);

// Asks the container credentials endpoint through `transport` on every call
// (wrap it in a RefreshingProvider), reading the variables above from `env`.
// A FULL_URI must be https, or http to a loopback address (127.0.0.0/8,
// [::1], localhost) or to the ECS / EKS Pod Identity agents (169.254.170.2,
// 169.254.170.23, [fd00:ec2::23]): the token must not go anywhere else in
// the clear. Throws byoc::Error kInvalid "aws_container_credentials_invalid"
// (field = the variable) here for a URI not allowed; credentials() throws
// kUnavailable "aws_container_credentials_unavailable" when the endpoint
// doesn't answer, answers other than 200 or malformed, or the token file
// can't be read.
std::unique_ptr<CredentialsProvider> make_container_provider(Transport& transport, EnvLookup env,
                                                             std::chrono::milliseconds timeout = std::chrono::seconds(2));

// The content of a token file (a web identity token, a container
// authorization token) without trailing CR/LF; read whole on every call.
// Throws byoc::Error kUnavailable "aws_credentials_unavailable" naming
// `what` and `path` (never the content) when the file is missing,
// unreadable, empty, or larger than kMaxTokenFileBytes.
inline constexpr size_t kMaxTokenFileBytes = 64 << 10;
std::string read_token_file(const std::string& path, const std::string& what);

}  // namespace byoc::aws
