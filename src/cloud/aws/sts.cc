#include "cloud/aws/sts.h"


namespace byoc::aws {
namespace {

Credentials from_result(const nlohmann::json& result, const std::string& source) {
  const nlohmann::json& c = result.value("Credentials", nlohmann::json::object());
  Credentials out;
  out.access_key_id = c.value("AccessKeyId", "");
  out.secret_access_key = c.value("SecretAccessKey", "");
  out.session_token = c.value("SessionToken", "");
  out.source = source;
  if (c.contains("Expiration") && c["Expiration"].is_number())
    out.expiration = TimePoint(std::chrono::seconds(static_cast<int64_t>(c["Expiration"].get<double>())));
  if (out.access_key_id.empty() || out.secret_access_key.empty() || out.session_token.empty() || !out.expiration)
    throw Error(ErrorKind::kUnavailable, "aws_credentials_unavailable",
                "STS answered " + source + " without complete credentials");
  return out;
}

}  // namespace

Sts::Sts(ClientOptions base) : base_(std::move(base)) { base_.service = Service::kSts; }

Credentials Sts::assume_role(const AssumeRoleParams& params, const Credentials& caller) {
  ClientOptions options = base_;
  options.credentials = static_credentials(caller);
  nlohmann::json request = {{"RoleArn", params.role_arn},
                            {"RoleSessionName", params.session_name},
                            {"DurationSeconds", params.duration.count()}};
  if (!params.external_id.empty()) request["ExternalId"] = params.external_id;
  return from_result(Client(options).call("AssumeRole", request), "role " + params.role_arn);
}

Credentials Sts::assume_role_with_web_identity(const std::string& role_arn, const std::string& session_name,
                                               const std::string& web_identity_token) {
  ClientOptions options = base_;
  options.credentials = nullptr;  // this call is authenticated by the token alone
  nlohmann::json request = {
      {"RoleArn", role_arn}, {"RoleSessionName", session_name}, {"WebIdentityToken", web_identity_token}};
  return from_result(Client(options).call("AssumeRoleWithWebIdentity", request), "web identity " + role_arn);
}

CallerIdentity Sts::caller_identity(std::shared_ptr<CredentialsProvider> credentials) {
  ClientOptions options = base_;
  options.credentials = std::move(credentials);
  nlohmann::json r = Client(options).call("GetCallerIdentity");
  return {r.value("Account", ""), r.value("Arn", ""), r.value("UserId", "")};
}

}  // namespace byoc::aws
