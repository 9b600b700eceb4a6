// Where byoc gets AWS credentials, following the AWS SDKs' conventions so an
// operator configures byoc as they configure the AWS CLI. The default chain,
// first that answers wins:
//   1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN];
//   2. the shared files (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, default
//      ~/.aws/credentials and ~/.aws/config), profile AWS_PROFILE or
//      "default", including a profile that assumes a role (role_arn with
//      source_profile or credential_source, external_id, role_session_name);
//   3. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (as on EKS);
//   4. the container credentials endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//      or _FULL_URI (an ECS task's role, EKS Pod Identity; see imds.h);
//   5. the EC2 instance metadata service, IMDSv2 only (a PUT for a session
//      token first), unless AWS_EC2_METADATA_DISABLED=true.
// Temporary credentials are refreshed before they expire (RefreshingProvider).
// Into the customer's account byoc then assumes the onboarding role with its
// ExternalId (AssumeRoleProvider).
//
// Nothing here logs a secret; Credentials has no operator<<.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "cloud/aws/shared_config.h"
#include "cloud/aws/transport.h"

namespace byoc::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;            // empty for long-term keys
  std::optional<TimePoint> expiration;  // none for long-term keys
  std::string source;                   // where they came from ("environment", "profile dev", "imds"…), for messages
};

// Reads an environment variable; injected so tests never touch the process's.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_environment();
// The variable's value when it is set and not empty (the SDKs treat an empty
// variable as unset).
std::optional<std::string> env_value(const EnvLookup& env, std::string_view name);

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Throws byoc::Error kUnavailable (code "aws_credentials_unavailable" or a
  // more precise one) with a message an operator can act on.
  virtual Credentials credentials() = 0;
};

// The STS calls the providers need, implemented by the STS client (sts.h);
// an interface here so the providers don't depend on the protocol code.
// Implementations must be thread-safe: the providers (and the chain) are
// shared between threads and call it from whichever thread refreshes.
struct AssumeRoleParams {
  std::string role_arn;
  std::string session_name;
  std::string external_id;  // empty: none sent
  std::chrono::seconds duration{3600};
};
class StsApi {
 public:
  virtual ~StsApi() = default;
  // Both throw byoc::Error: AwsCallError for what STS answered (kForbidden for
  // AccessDenied), kUnavailable when it could not be reached.
  virtual Credentials assume_role(const AssumeRoleParams& params, const Credentials& caller) = 0;
  virtual Credentials assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                                                    const std::string& web_identity_token) = 0;
};

// Always the same credentials (keys given on a command line, a caller's
// credentials handed to STS for one call).
std::shared_ptr<CredentialsProvider> static_credentials(Credentials credentials);

// The transports and the STS client are shared by every thread that asks
// the chain: they must be thread-safe (make_curl_transport's is).
struct ChainOptions {
  EnvLookup env = process_environment();
  std::string home;               // for ~/.aws; from HOME when empty
  Transport* imds = nullptr;      // the transport to the instance metadata service; none: IMDS skipped
  Transport* container = nullptr; // to the container credentials endpoint; none: `imds` is used
  StsApi* sts = nullptr;          // for role profiles and web identity; none: those are errors
  const Clock* clock = nullptr;   // required
};
// Which source answers is decided at the first credentials() call and kept
// (a source that is configured but fails is an error, not a reason to try the
// next); the instance metadata service, the last resort, is tried again on
// the next call when it failed. Temporary credentials are refreshed
// (RefreshingProvider). Thread-safe.
std::unique_ptr<CredentialsProvider> default_credentials_chain(ChainOptions options);

// The profile the chain reads: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default".
std::string selected_profile(const EnvLookup& env);
// The shared files as the chain finds them (AWS_SHARED_CREDENTIALS_FILE,
// AWS_CONFIG_FILE, else under `home`/.aws; "~/" expanded with `home`); a
// missing file reads as empty. Throws byoc::Error kInvalid
// "aws_config_invalid" for a file that exists but can't be read or parsed.
SharedFiles load_shared_files(const EnvLookup& env, const std::string& home);
// The region AWS is called in: AWS_REGION, AWS_DEFAULT_REGION, else the
// selected profile's region; "" when none is configured.
std::string configured_region(const EnvLookup& env, const std::string& home);

// Caches another provider's credentials (long-term ones for good) and asks
// it again before they expire, as the AWS SDKs do:
//   - within `refresh_before` of the expiry (the advisory window) one caller
//     refreshes while the others are served the cached credentials at once;
//   - within `mandatory_before` of it, or once expired, callers wait for the
//     refresh (one runs; those arriving meanwhile share its result, success
//     or failure).
// A refresh that fails while the cached credentials are still valid is
// logged, the cached ones are served, and no refresh is tried again for
// `retry_after` (on the clock's monotonic time). Once they have expired,
// a failure is thrown. Thread-safe; the inner provider is never called by two
// threads at once.
class RefreshingProvider final : public CredentialsProvider {
 public:
  RefreshingProvider(std::unique_ptr<CredentialsProvider> inner, const Clock& clock,
                     std::chrono::seconds refresh_before = std::chrono::minutes(5),
                     std::chrono::seconds mandatory_before = std::chrono::minutes(1),
                     std::chrono::seconds retry_after = std::chrono::seconds(30));
  Credentials credentials() override;

 private:
  std::unique_ptr<CredentialsProvider> inner_;
  const Clock& clock_;
  std::chrono::seconds refresh_before_;
  std::chrono::seconds mandatory_before_;
  std::chrono::seconds retry_after_;
  std::mutex mutex_;
  std::condition_variable refreshed_;
  std::optional<Credentials> cached_;
  bool refreshing_ = false;
  uint64_t refreshes_ = 0;             // refreshes ended, for waiters to see theirs end
  std::exception_ptr last_failure_;    // the last refresh's failure, when it failed
  MonotonicTime retry_not_before_{};   // after a failure with valid credentials cached
};

// Assumes `params.role_arn` with `source`'s credentials on every call; wrap
// it in a RefreshingProvider.
class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, StsApi& sts, AssumeRoleParams params);
  Credentials credentials() override;

 private:
  std::shared_ptr<CredentialsProvider> source_;
  StsApi& sts_;
  AssumeRoleParams params_;
};

}  // namespace byoc::aws
