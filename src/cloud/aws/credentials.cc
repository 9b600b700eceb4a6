#include "cloud/aws/credentials.h"

#include <algorithm>
#include <cstdlib>

#include "base/error.h"
#include "base/files.h"
#include "base/log.h"
#include "cloud/aws/imds.h"

namespace byoc::aws {
namespace {

Error unavailable(const std::string& message) {
  return Error(ErrorKind::kUnavailable, "aws_credentials_unavailable", message);
}

// nullopt when the file does not exist; throws when it exists and can't be read.
std::optional<std::string> read_file(const std::string& path, const std::string& what) {
  try {
    return files::read_if_exists(path);
  } catch (const Error& e) {
    throw Error::Invalid("aws_config_invalid", "cannot read the " + what + " " + path + " (" + e.what() + ")");
  }
}

std::string expand_home(const std::string& path, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  return path;
}

std::string home_of(const EnvLookup& env, const std::string& home) {
  if (!home.empty()) return home;
  return env_value(env, "HOME").value_or("");
}

// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]; nullopt
// when neither is set, an error when only one is.
std::optional<Credentials> environment_credentials(const EnvLookup& env) {
  auto id = env_value(env, "AWS_ACCESS_KEY_ID");
  auto secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (!id && !secret) return std::nullopt;
  if (!id || !secret)
    throw Error::Invalid("aws_credentials_invalid",
                         std::string(id ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                                        : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
                         id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
  return Credentials{*id, *secret, env_value(env, "AWS_SESSION_TOKEN").value_or(""), std::nullopt, "environment"};
}

class StaticProvider final : public CredentialsProvider {
 public:
  explicit StaticProvider(Credentials c) : credentials_(std::move(c)) {}
  Credentials credentials() override { return credentials_; }

 private:
  Credentials credentials_;
};

// credential_source = Environment: read when asked, as the variables are then.
class EnvironmentProvider final : public CredentialsProvider {
 public:
  EnvironmentProvider(EnvLookup env, std::string profile) : env_(std::move(env)), profile_(std::move(profile)) {}
  Credentials credentials() override {
    auto c = environment_credentials(env_);
    if (!c)
      throw unavailable("AWS profile \"" + profile_ +
                        "\" has credential_source Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are unset");
    c->source = "environment (credential_source of profile " + profile_ + ")";
    return *c;
  }

 private:
  EnvLookup env_;
  std::string profile_;
};

// The token file is read on every call: on EKS the kubelet rotates it.
class WebIdentityProvider final : public CredentialsProvider {
 public:
  WebIdentityProvider(StsApi& sts, WebIdentitySettings settings) : sts_(sts), settings_(std::move(settings)) {}
  Credentials credentials() override {
    std::string token = read_token_file(settings_.token_file, "web identity token file");
    Credentials c = sts_.assume_role_with_web_identity(settings_.role_arn, settings_.session_name, token);
    if (c.source.empty()) c.source = "web identity role " + settings_.role_arn;
    return c;
  }

 private:
  StsApi& sts_;
  WebIdentitySettings settings_;
};

// Names every place the chain looked, so the operator sees what to set.
Error nothing_found(const std::string& profile, const std::string& last) {
  return unavailable("no AWS credentials found: none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, none in AWS profile \"" +
                     profile + "\", no AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, no "
                     "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI, " + last);
}

// Without a role_session_name, the session is named for byoc and the time,
// so CloudTrail shows who assumed the role and when.
std::string default_session_name(const Clock& clock) { return "byoc-" + std::to_string(clock.unix_seconds()); }

class DefaultChain final : public CredentialsProvider {
 public:
  explicit DefaultChain(ChainOptions options) : options_(std::move(options)) {
    if (!options_.clock) throw Error::Internal("default_credentials_chain needs a clock");
    if (!options_.env) throw Error::Internal("default_credentials_chain needs an environment lookup");
  }

  Credentials credentials() override {
    std::shared_ptr<CredentialsProvider> selected;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      selected = selected_;
    }
    if (selected) return selected->credentials();
    std::lock_guard<std::mutex> lock(mutex_);
    if (selected_) return selected_->credentials();
    auto [candidate, last_resort] = select();
    try {
      Credentials c = candidate->credentials();
      selected_ = std::move(candidate);
      return c;
    } catch (const Error& e) {
      if (!last_resort) throw;
      throw nothing_found(selected_profile(options_.env),
                          "and the EC2 instance metadata service gave none (" + std::string(e.what()) + ")");
    }
  }

 private:
  using Selection = std::pair<std::shared_ptr<CredentialsProvider>, bool /*last resort*/>;

  Selection select() {
    const EnvLookup& env = options_.env;
    std::string profile = selected_profile(env);
    bool explicit_profile = env_value(env, "AWS_PROFILE") || env_value(env, "AWS_DEFAULT_PROFILE");

    // 1. The environment — unless AWS_PROFILE names a profile that assumes a
    // role with credential_source = Environment: those keys are then that
    // role's source (else such a profile could never be used).
    if (auto c = environment_credentials(env)) {
      if (explicit_profile)
        if (auto plan = environment_sourced_plan(profile)) return {from_plan(*plan), false};
      return {std::make_shared<StaticProvider>(*c), false};
    }

    // 2. The shared files. A profile named explicitly must exist.
    SharedFiles files = load_shared_files(env, options_.home);
    if (explicit_profile || profile_settings(files, profile)) {
      ResolvedProfile resolved = resolve_profile(files, profile);
      if (resolved.credentials) return {from_plan(*resolved.credentials), false};
    }

    // 3. Web identity (EKS IRSA).
    auto role_arn = env_value(env, "AWS_ROLE_ARN");
    auto token_file = env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (role_arn && token_file) {
      WebIdentitySettings settings{*role_arn, *token_file,
                                   env_value(env, "AWS_ROLE_SESSION_NAME").value_or("")};
      return {web_identity(std::move(settings), "AWS_ROLE_ARN"), false};
    }

    // 4. The container credentials endpoint (ECS task role, EKS Pod Identity):
    // before the instance's own role, which a container must not end up with.
    if (container_credentials_configured(env)) return {container("AWS_CONTAINER_CREDENTIALS_*"), false};

    // 5. The instance metadata service.
    if (!options_.imds)
      throw nothing_found(profile, "and no instance metadata service here");
    if (imds_disabled(env))
      throw nothing_found(profile, "and AWS_EC2_METADATA_DISABLED=true");
    return {imds(), true};
  }

  // The selected profile's plan when it starts from the environment; nullopt
  // for any other profile, or one that doesn't resolve (the environment's
  // keys are then used as they are, as the AWS CLI would).
  std::optional<CredentialPlan> environment_sourced_plan(const std::string& profile) {
    try {
      auto resolved = resolve_profile(load_shared_files(options_.env, options_.home), profile);
      if (resolved.credentials && resolved.credentials->origin == CredentialOrigin::kEnvironment)
        return resolved.credentials;
    } catch (const Error&) {
    }
    return std::nullopt;
  }

  std::shared_ptr<CredentialsProvider> from_plan(const CredentialPlan& plan) {
    std::shared_ptr<CredentialsProvider> provider;
    switch (plan.origin) {
      case CredentialOrigin::kStaticKeys:
        provider = std::make_shared<StaticProvider>(Credentials{plan.keys.access_key_id, plan.keys.secret_access_key,
                                                                plan.keys.session_token, std::nullopt,
                                                                "profile " + plan.source_profile});
        break;
      case CredentialOrigin::kEnvironment:
        provider = std::make_shared<EnvironmentProvider>(options_.env, plan.source_profile);
        break;
      case CredentialOrigin::kEc2InstanceMetadata:
        if (!options_.imds || imds_disabled(options_.env))
          throw unavailable("AWS profile \"" + plan.source_profile +
                            "\" has credential_source Ec2InstanceMetadata, but the instance metadata service is " +
                            (options_.imds ? "disabled (AWS_EC2_METADATA_DISABLED=true)" : "not available here"));
        provider = imds();
        break;
      case CredentialOrigin::kWebIdentity:
        provider = web_identity(plan.web_identity, "profile " + plan.source_profile);
        break;
      case CredentialOrigin::kEcsContainer:
        if (!container_credentials_configured(options_.env))
          throw unavailable("AWS profile \"" + plan.source_profile +
                            "\" has credential_source EcsContainer, but neither "
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set");
        provider = container("credential_source of profile " + plan.source_profile);
        break;
    }
    for (const RoleStep& step : plan.roles) {
      if (!options_.sts)
        throw unavailable("AWS profile \"" + step.profile + "\" assumes role " + step.role_arn +
                          ", but no STS client is configured");
      AssumeRoleParams params{step.role_arn,
                              step.session_name.empty() ? default_session_name(*options_.clock) : step.session_name,
                              step.external_id, step.duration};
      provider = std::make_shared<RefreshingProvider>(
          std::make_unique<AssumeRoleProvider>(std::move(provider), *options_.sts, std::move(params)), *options_.clock);
    }
    return provider;
  }

  std::shared_ptr<CredentialsProvider> web_identity(WebIdentitySettings settings, const std::string& configured_by) {
    if (!options_.sts)
      throw unavailable("web identity (" + configured_by + ") assumes role " + settings.role_arn +
                        ", but no STS client is configured");
    if (settings.session_name.empty()) settings.session_name = default_session_name(*options_.clock);
    return std::make_shared<RefreshingProvider>(std::make_unique<WebIdentityProvider>(*options_.sts, std::move(settings)),
                                                *options_.clock);
  }

  std::shared_ptr<CredentialsProvider> container(const std::string& configured_by) {
    Transport* transport = options_.container ? options_.container : options_.imds;
    if (!transport)
      throw unavailable("the container credentials endpoint (" + configured_by +
                        ") is configured, but no transport to it is");
    return std::make_shared<RefreshingProvider>(make_container_provider(*transport, options_.env), *options_.clock);
  }

  std::shared_ptr<CredentialsProvider> imds() {
    return std::make_shared<RefreshingProvider>(make_imds_provider(*options_.imds, imds_endpoint(options_.env)),
                                                *options_.clock);
  }

  ChainOptions options_;
  std::mutex mutex_;
  std::shared_ptr<CredentialsProvider> selected_;
};

}  // namespace

std::optional<std::string> env_value(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

EnvLookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return std::nullopt;
    return std::string(value);
  };
}

std::string selected_profile(const EnvLookup& env) {
  if (auto p = env_value(env, "AWS_PROFILE")) return *p;
  if (auto p = env_value(env, "AWS_DEFAULT_PROFILE")) return *p;
  return "default";
}

SharedFiles load_shared_files(const EnvLookup& env, const std::string& home) {
  std::string h = home_of(env, home);
  auto path_of = [&](const char* variable, const char* name) {
    if (auto configured = env_value(env, variable)) return expand_home(*configured, h);
    return h.empty() ? std::string() : h + "/.aws/" + name;
  };
  SharedFiles files;
  std::string credentials_path = path_of("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  std::string config_path = path_of("AWS_CONFIG_FILE", "config");
  if (!credentials_path.empty())
    if (auto text = read_file(credentials_path, "AWS shared credentials file"))
      files.credentials = parse_ini(*text, credentials_path);
  if (!config_path.empty())
    if (auto text = read_file(config_path, "AWS config file")) files.config = parse_ini(*text, config_path);
  return files;
}

std::string configured_region(const EnvLookup& env, const std::string& home) {
  if (auto r = env_value(env, "AWS_REGION")) return *r;
  if (auto r = env_value(env, "AWS_DEFAULT_REGION")) return *r;
  SharedFiles files = load_shared_files(env, home);
  auto settings = profile_settings(files, selected_profile(env));
  if (!settings) return "";
  auto it = settings->find("region");
  return it == settings->end() ? "" : it->second.value;
}

std::shared_ptr<CredentialsProvider> static_credentials(Credentials credentials) {
  return std::make_shared<StaticProvider>(std::move(credentials));
}

std::unique_ptr<CredentialsProvider> default_credentials_chain(ChainOptions options) {
  return std::make_unique<DefaultChain>(std::move(options));
}

RefreshingProvider::RefreshingProvider(std::unique_ptr<CredentialsProvider> inner, const Clock& clock,
                                       std::chrono::seconds refresh_before, std::chrono::seconds mandatory_before,
                                       std::chrono::seconds retry_after)
    : inner_(std::move(inner)),
      clock_(clock),
      refresh_before_(refresh_before),
      mandatory_before_(std::min(mandatory_before, refresh_before)),
      retry_after_(retry_after) {}

Credentials RefreshingProvider::credentials() {
  std::unique_lock<std::mutex> lock(mutex_);
  auto still_valid = [&] { return cached_ && (!cached_->expiration || clock_.system_time() < *cached_->expiration); };
  for (;;) {
    TimePoint now = clock_.system_time();
    if (cached_ && (!cached_->expiration || now < *cached_->expiration - refresh_before_)) return *cached_;
    bool valid = still_valid();
    bool mandatory = !valid || now >= *cached_->expiration - mandatory_before_;
    if (refreshing_) {
      // Advisory: serve the cache while another caller refreshes.
      if (!mandatory) return *cached_;
      // Mandatory: wait for that refresh and take its result.
      uint64_t seen = refreshes_;
      refreshed_.wait(lock, [&] { return refreshes_ != seen; });
      if (last_failure_ && !still_valid()) std::rethrow_exception(last_failure_);
      continue;
    }
    // A refresh failed lately and the cached credentials still hold: no
    // source is asked again (a full STS call, say) until the backoff ends.
    if (valid && clock_.monotonic_time() < retry_not_before_) return *cached_;

    refreshing_ = true;
    lock.unlock();
    std::optional<Credentials> fresh;
    std::exception_ptr failure;
    std::string why;
    try {
      fresh = inner_->credentials();
    } catch (const std::exception& e) {
      failure = std::current_exception();
      why = e.what();
    } catch (...) {
      failure = std::current_exception();
      why = "unknown error";
    }
    lock.lock();
    refreshing_ = false;
    ++refreshes_;
    last_failure_ = failure;
    refreshed_.notify_all();
    if (fresh) {
      cached_ = std::move(fresh);
      retry_not_before_ = {};
      return *cached_;
    }
    if (!still_valid()) std::rethrow_exception(failure);
    retry_not_before_ = clock_.monotonic_time() + retry_after_;
    auto left = std::chrono::duration_cast<std::chrono::seconds>(*cached_->expiration - clock_.system_time()).count();
    spdlog::warn("AWS credentials from {} could not be refreshed ({}); the current ones stay in use for {} s more, "
                 "the next attempt in {} s at the earliest",
                 cached_->source, why, left, retry_after_.count());
    return *cached_;
  }
}

AssumeRoleProvider::AssumeRoleProvider(std::shared_ptr<CredentialsProvider> source, StsApi& sts,
                                       AssumeRoleParams params)
    : source_(std::move(source)), sts_(sts), params_(std::move(params)) {}

Credentials AssumeRoleProvider::credentials() {
  Credentials caller = source_->credentials();
  Credentials c = sts_.assume_role(params_, caller);
  if (c.source.empty()) c.source = "role " + params_.role_arn + " assumed with " + caller.source;
  return c;
}

}  // namespace byoc::aws
