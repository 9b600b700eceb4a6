#include "cloud/aws/imds.h"

#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"

namespace byoc::aws {
namespace {

constexpr const char* kTokenPath = "/latest/api/token";
constexpr const char* kRolesPath = "/latest/meta-data/iam/security-credentials/";
constexpr const char* kTokenTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr const char* kTokenHeader = "X-aws-ec2-metadata-token";
// Six hours, what the SDKs ask for; a token is fetched for each refresh anyway.
constexpr const char* kTokenTtlSeconds = "21600";

Error unavailable(const std::string& message) {
  return Error(ErrorKind::kUnavailable, "aws_imds_unavailable", "EC2 instance metadata: " + message);
}

// "2026-11-24T06:38:09Z", tolerating fractional seconds.
std::optional<TimePoint> parse_expiration(std::string text) {
  auto dot = text.find('.');
  if (dot != std::string::npos && !text.empty() && text.back() == 'Z') text = text.substr(0, dot) + "Z";
  auto seconds = parse_rfc3339(text);
  if (!seconds) return std::nullopt;
  return TimePoint(std::chrono::seconds(*seconds));
}

class ImdsProvider final : public CredentialsProvider {
 public:
  ImdsProvider(Transport& transport, std::string endpoint, std::chrono::milliseconds timeout)
      : transport_(transport), endpoint_(std::move(endpoint)), timeout_(timeout) {}

  Credentials credentials() override {
    HttpResponse token = call("PUT", kTokenPath, {{kTokenTtlHeader, kTokenTtlSeconds}});
    if (token.status != 200 || token.body.empty())
      throw unavailable("the session token request (IMDSv2) was answered " + std::to_string(token.status) +
                        "; byoc does not fall back to IMDSv1");
    Headers with_token = {{kTokenHeader, token.body}};

    HttpResponse roles = call("GET", kRolesPath, with_token);
    if (roles.status == 404) throw unavailable("this instance has no IAM role (instance profile) attached");
    if (roles.status != 200) throw unavailable("listing the instance's role was answered " + std::to_string(roles.status));
    std::string role = roles.body.substr(0, roles.body.find('\n'));
    while (!role.empty() && std::isspace(static_cast<unsigned char>(role.back()))) role.pop_back();
    if (role.empty() || role.find('/') != std::string::npos) throw unavailable("no usable role name was listed");

    HttpResponse answer = call("GET", std::string(kRolesPath) + role, with_token);
    if (answer.status != 200)
      throw unavailable("the credentials of role " + role + " were answered " + std::to_string(answer.status));
    return parse(role, answer.body);
  }

 private:
  HttpResponse call(const std::string& method, const std::string& path, Headers headers) {
    try {
      return transport_.send({method, endpoint_ + path, std::move(headers), "", timeout_});
    } catch (const Error& e) {
      throw unavailable(e.what());
    }
  }

  static Credentials parse(const std::string& role, const std::string& body) {
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    auto text = [&](const char* key) -> std::string {
      if (!doc.is_object() || !doc.contains(key) || !doc[key].is_string()) return "";
      return doc[key].get<std::string>();
    };
    if (doc.is_discarded() || !doc.is_object()) throw unavailable("the credentials of role " + role + " are not JSON");
    if (std::string code = text("Code"); !code.empty() && code != "Success")
      throw unavailable("the credentials of role " + role + " are not ready (Code " + code + ")");
    Credentials c;
    c.access_key_id = text("AccessKeyId");
    c.secret_access_key = text("SecretAccessKey");
    c.session_token = text("Token");
    c.expiration = parse_expiration(text("Expiration"));
    c.source = "imds role " + role;
    if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty() || !c.expiration)
      throw unavailable("the credentials of role " + role +
                        " lack AccessKeyId, SecretAccessKey, Token or a valid Expiration");
    return c;
  }

  Transport& transport_;
  std::string endpoint_;
  std::chrono::milliseconds timeout_;
};

constexpr const char* kContainerHost = "http://169.254.170.2";
constexpr const char* kRelativeUri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr const char* kFullUri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr const char* kTokenVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr const char* kTokenFileVariable = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";

Error container_unavailable(const std::string& message) {
  return Error(ErrorKind::kUnavailable, "aws_container_credentials_unavailable",
               "container credentials endpoint: " + message);
}

// The host of an http(s) URL, lowercased, without port; "" when malformed.
std::string host_of(const std::string& url, size_t scheme_end) {
  std::string rest = url.substr(scheme_end + 3);
  std::string authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != std::string::npos) return "";
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    return close == std::string::npos ? "" : ascii_lowercase(authority.substr(0, close + 1));
  }
  return ascii_lowercase(authority.substr(0, authority.find(':')));
}

bool loopback_or_agent(const std::string& host) {
  if (host == "localhost" || host == "[::1]" || host == "169.254.170.2" || host == "169.254.170.23" ||
      host == "[fd00:ec2::23]")
    return true;
  // 127.0.0.0/8, written as a dotted quad.
  int parts = 0;
  size_t pos = 0;
  while (pos <= host.size()) {
    size_t dot = host.find('.', pos);
    std::string part = host.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(part) > 255)
      return false;
    if (parts == 0 && part != "127") return false;
    ++parts;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return parts == 4;
}

std::string container_url(const EnvLookup& env) {
  if (auto relative = env_value(env, kRelativeUri)) {
    if ((*relative)[0] != '/' || relative->find_first_of(" \r\n\t#") != std::string::npos)
      throw Error::Invalid("aws_container_credentials_invalid",
                           std::string(kRelativeUri) + " must be a path starting with '/'", kRelativeUri);
    return kContainerHost + *relative;
  }
  auto full = env_value(env, kFullUri);
  if (!full) throw Error::Internal("make_container_provider without a container credentials URI");
  auto invalid = [&](const std::string& why) {
    return Error::Invalid("aws_container_credentials_invalid", std::string(kFullUri) + "=" + *full + " " + why, kFullUri);
  };
  if (full->find_first_of(" \r\n\t") != std::string::npos) throw invalid("holds blanks or line breaks");
  size_t scheme_end = full->find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : ascii_lowercase(full->substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") throw invalid("is not an http(s) URL");
  std::string host = host_of(*full, scheme_end);
  if (host.empty() || host == "[]") throw invalid("has no usable host");
  if (scheme == "http" && !loopback_or_agent(host))
    throw invalid("is plain http to a host that is neither loopback nor the ECS or EKS Pod Identity agent "
                  "(169.254.170.2, 169.254.170.23, [fd00:ec2::23]); use https");
  return *full;
}

class ContainerProvider final : public CredentialsProvider {
 public:
  ContainerProvider(Transport& transport, EnvLookup env, std::chrono::milliseconds timeout)
      : transport_(transport), env_(std::move(env)), url_(container_url(env_)), timeout_(timeout) {}

  Credentials credentials() override {
    Headers headers;
    if (auto token = authorization()) headers.emplace_back("Authorization", std::move(*token));
    HttpResponse answer;
    // One retry, as the SDKs retry this local endpoint: the agent may be
    // briefly busy.
    for (int attempt = 1;; ++attempt) {
      try {
        answer = transport_.send({"GET", url_, headers, "", timeout_});
        if (answer.status < 500 || attempt == 2) break;
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::kInvalid) throw container_unavailable(e.what());
        if (attempt == 2) throw container_unavailable(e.what());
      }
    }
    if (answer.status != 200)
      throw container_unavailable(where() + " answered " + std::to_string(answer.status));
    nlohmann::json doc = nlohmann::json::parse(answer.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) throw container_unavailable(where() + " answered other than JSON");
    auto text = [&](const char* key) -> std::string {
      return doc.contains(key) && doc[key].is_string() ? doc[key].get<std::string>() : "";
    };
    Credentials c;
    c.access_key_id = text("AccessKeyId");
    c.secret_access_key = text("SecretAccessKey");
    c.session_token = text("Token");
    if (std::string expiration = text("Expiration"); !expiration.empty()) {
      c.expiration = parse_expiration(expiration);
      if (!c.expiration) throw container_unavailable(where() + " answered an invalid Expiration");
    }
    c.source = "container credentials endpoint";
    if (c.access_key_id.empty() || c.secret_access_key.empty())
      throw container_unavailable(where() + " answered without AccessKeyId or SecretAccessKey");
    return c;
  }

 private:
  // The URL without its query, for messages.
  std::string where() const { return url_.substr(0, url_.find('?')); }

  // The token file wins over the variable, as in the SDKs; read every time.
  std::optional<std::string> authorization() {
    std::optional<std::string> token;
    std::string from;
    if (auto file = env_value(env_, kTokenFileVariable)) {
      token = read_token_file(*file, "container authorization token file (" + std::string(kTokenFileVariable) + ")");
      from = kTokenFileVariable;
    } else if (auto value = env_value(env_, kTokenVariable)) {
      token = *value;
      from = kTokenVariable;
    }
    if (token && token->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw container_unavailable("the authorization token from " + from + " holds a line break or NUL");
    return token;
  }

  Transport& transport_;
  EnvLookup env_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

bool container_credentials_configured(const EnvLookup& env) {
  return env_value(env, kRelativeUri) || env_value(env, kFullUri);
}

std::unique_ptr<CredentialsProvider> make_container_provider(Transport& transport, EnvLookup env,
                                                             std::chrono::milliseconds timeout) {
  return std::make_unique<ContainerProvider>(transport, std::move(env), timeout);
}

std::string read_token_file(const std::string& path, const std::string& what) {
  auto unavailable = [&](const std::string& why) {
    return Error(ErrorKind::kUnavailable, "aws_credentials_unavailable", "the " + what + " " + path + " " + why);
  };
  std::error_code ec;
  // A FIFO or a device would block or never end: regular files only.
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) throw unavailable("is missing");
  if (!std::filesystem::is_regular_file(status)) throw unavailable("is not a regular file");
  if (auto size = std::filesystem::file_size(path, ec); !ec && size > kMaxTokenFileBytes)
    throw unavailable("is larger than " + std::to_string(kMaxTokenFileBytes >> 10) + " KiB");
  std::optional<std::string> text;
  try {
    text = files::read_if_exists(path);
  } catch (const Error&) {
    throw unavailable("cannot be read");
  }
  if (!text) throw unavailable("is missing");
  if (text->size() > kMaxTokenFileBytes)  // it grew meanwhile
    throw unavailable("is larger than " + std::to_string(kMaxTokenFileBytes >> 10) + " KiB");
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r')) text->pop_back();
  if (text->empty()) throw unavailable("is empty");
  return *text;
}

std::string imds_endpoint(const EnvLookup& env) {
  auto configured = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  std::string endpoint;
  if (configured && !configured->empty())
    endpoint = *configured;
  else if (auto mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"); mode && ascii_lowercase(*mode) == "ipv6")
    endpoint = "http://[fd00:ec2::254]";
  else
    endpoint = "http://169.254.169.254";
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

bool imds_disabled(const EnvLookup& env) {
  auto v = env("AWS_EC2_METADATA_DISABLED");
  return v && ascii_lowercase(*v) == "true";
}

std::unique_ptr<CredentialsProvider> make_imds_provider(Transport& transport, std::string endpoint,
                                                        std::chrono::milliseconds timeout) {
  return std::make_unique<ImdsProvider>(transport, std::move(endpoint), timeout);
}

}  // namespace byoc::aws
