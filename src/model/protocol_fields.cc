#include "model/protocol_fields.h"

#include <arpa/inet.h>

#include <algorithm>

#include "model/protocol.h"
#include "model/validate.h"

namespace byoc::model::protocol_fields {

std::string checked_name(const StrictObject& o, const std::string& key) {
  std::string name = o.string(key);
  if (!is_dns1123_label(name)) throw Error::Invalid("invalid_value", "not a DNS-1123 label", o.field(key));
  return name;
}

std::string checked_endpoint(const StrictObject& o, const std::string& key) {
  std::string e = o.string(key);
  const bool https = key != "native_endpoint";
  bool ok = https ? is_https_endpoint(e) : is_native_endpoint(e);
  if (!e.empty() && !ok)
    throw Error::Invalid("invalid_value", https ? "must be https://HOST:PORT" : "must be HOST:PORT", o.field(key));
  return e;
}

// Text meant for people (a subject): no control characters.
std::string printable(const StrictObject& o, const std::string& key, size_t max_length) {
  std::string s = o.string(key, max_length);
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) throw Error::Invalid("invalid_value", "must not hold control characters", o.field(key));
  return s;
}

// One public PEM certificate, or "" when absent.
std::string certificate(const StrictObject& o, const std::string& key) {
  std::string pem = o.string(key, 16384);
  if (!pem.empty() && (pem.find("-----BEGIN CERTIFICATE-----") != 0 || pem.find("PRIVATE") != std::string::npos))
    throw Error::Invalid("invalid_value", "must be one PEM certificate", o.field(key));
  return pem;
}

// A list of management-plane URLs, each https://HOST:PORT, no repeats.
std::vector<std::string> parse_plane_servers(const StrictObject& o, const std::string& key) {
  std::vector<std::string> out;
  o.each(key, kMaxPlaneServers, [&](const json& url, const std::string& path) {
    if (!url.is_string() || !is_https_endpoint(url.get<std::string>()))
      throw Error::Invalid("invalid_value", "must be https://HOST:PORT", path);
    if (std::find(out.begin(), out.end(), url.get<std::string>()) != out.end())
      throw Error::Invalid("invalid_value", "listed twice", path);
    out.push_back(url.get<std::string>());
  });
  return out;
}

const std::regex& hex64() {
  static const std::regex re("[0-9a-f]{64}");
  return re;
}

// An IPv4/IPv6 literal or a lowercase DNS name; no port, no scheme.
bool is_host(const std::string& host) {
  static const std::regex name(
      R"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)");
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1) return true;
  return host.size() <= 253 && std::regex_match(host, name);
}

// A certificate serial as the gateways normalize it, or "".
std::string checked_serial(const StrictObject& o, const std::string& key) {
  std::string serial = o.string(key, 64);
  static const std::regex normalized("[1-9a-f][0-9a-f]{0,63}");
  if (!serial.empty() && !std::regex_match(serial, normalized))
    throw Error::Invalid("invalid_value", "must be lowercase hex without leading zeros", o.field(key));
  return serial;
}

const std::regex& rollout_id() {
  static const std::regex re("[A-Za-z0-9._-]{1,64}");
  return re;
}

}  // namespace byoc::model::protocol_fields
