#include "cloud/aws/endpoints.h"

#include <algorithm>
#include <cctype>

#include "base/error.h"
#include "cloud/aws/shared_config.h"

namespace byoc::aws {
namespace {

bool is_true(const std::optional<std::string>& v) { return v && ascii_lowercase(*v) == "true"; }

std::string service_variable(std::string_view service_id) {
  std::string name = "AWS_ENDPOINT_URL_";
  for (char c : service_id) name += c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

bool is_label_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// A region is lowercase labels joined by single hyphens ("us-east-1",
// "us-gov-west-1", "cn-north-1"); anything else would land in a host name.
bool valid_region(std::string_view r) {
  if (r.empty() || r.size() > 32 || r.front() == '-' || r.back() == '-') return false;
  for (size_t i = 0; i < r.size(); ++i) {
    char c = r[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok || (c == '-' && r[i - 1] == '-')) return false;
  }
  return true;
}

// http(s)://host[:port][/path], host a DNS name, IPv4 or [IPv6]; no user
// info, query or fragment (they would be signed as part of every request).
std::string validated_url(const std::string& url, const std::string& variable) {
  auto invalid = [&](const std::string& why) {
    return Error::Invalid("aws_endpoint_invalid", variable + "=" + url + " is not a usable endpoint URL: " + why,
                          variable);
  };
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) throw invalid("expected http://host[:port] or https://host[:port]");
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") throw invalid("the scheme must be http or https");
  std::string rest = url.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string::npos) throw invalid("a query or fragment is not allowed");
  size_t path_start = rest.find('/');
  std::string authority = rest.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "" : rest.substr(path_start);
  if (authority.find('@') != std::string::npos) throw invalid("user information is not allowed");
  std::string host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) throw invalid("an IPv6 host without `]`");
    host = authority.substr(0, close + 1);
    std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw invalid("unexpected text after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) throw invalid("an empty port");
    }
    for (char c : host.substr(1, host.size() - 2))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') throw invalid("a malformed IPv6 host");
  } else {
    size_t colon = authority.find(':');
    if (colon != std::string::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) throw invalid("an empty port");
    }
    if (host.empty()) throw invalid("no host");
    for (char c : host)
      if (!is_label_char(c) && c != '.') throw invalid("the host may hold letters, digits, '-' and '.' only");
  }
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      throw invalid("the port must be a number from 1 to 65535");
    // The scheme's default port is dropped, as the AWS SDKs do: curl leaves it
    // out of the Host header it sends, so a signature over `host:443` would
    // never match. Any other port is written without leading zeros.
    int number = std::stoi(port);
    port = (scheme == "http" && number == 80) || (scheme == "https" && number == 443) ? "" : std::to_string(number);
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port) + path;
}

// An endpoint with its parts, from a URL validated_url() wrote (or ours).
ServiceEndpoint endpoint_at(std::string url, std::string signing_region, bool configured) {
  ServiceEndpoint e{std::move(url), std::move(signing_region), configured};
  size_t authority_start = e.url.find("://") + 3;
  size_t path_start = e.url.find('/', authority_start);
  e.scheme = e.url.substr(0, authority_start - 3);
  e.authority = e.url.substr(authority_start, path_start - authority_start);
  e.path = path_start == std::string::npos ? "" : e.url.substr(path_start);
  return e;
}

std::string region_or_throw(std::string_view region) {
  if (region.empty())
    throw Error::Invalid("aws_region_missing",
                         "no AWS region is configured: set AWS_REGION (or region in the AWS profile)", "AWS_REGION");
  if (!valid_region(region))
    throw Error::Invalid("aws_region_invalid",
                         "\"" + std::string(region) + "\" is not an AWS region (such as us-east-1)", "AWS_REGION");
  return std::string(region);
}

}  // namespace

ServiceEndpoint resolve_endpoint(std::string_view service_id, std::string_view endpoint_prefix,
                                 std::string_view region, const EnvLookup& env) {
  bool iam = endpoint_prefix == "iam";
  // IAM is global: without a region it is the aws partition's.
  std::string signing_region = iam && region.empty() ? "us-east-1" : region_or_throw(region);
  bool china = signing_region.rfind("cn-", 0) == 0;
  bool gov = signing_region.rfind("us-gov-", 0) == 0;
  if (iam) signing_region = china ? "cn-north-1" : gov ? "us-gov-west-1" : "us-east-1";

  if (!is_true(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"))) {
    for (const std::string& variable : {service_variable(service_id), std::string("AWS_ENDPOINT_URL")}) {
      auto value = env(variable);
      if (value && !value->empty()) return endpoint_at(validated_url(*value, variable), signing_region, true);
    }
  }

  std::string suffix = china ? "amazonaws.com.cn" : "amazonaws.com";
  std::string host;
  if (iam)
    host = china ? "iam.cn-north-1." + suffix : gov ? "iam.us-gov." + suffix : "iam." + suffix;
  else
    host = std::string(endpoint_prefix) + "." + signing_region + "." + suffix;
  return endpoint_at("https://" + host, signing_region, false);
}

}  // namespace byoc::aws
