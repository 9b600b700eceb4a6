#include "model/validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::model {
using nlohmann::json;

bool is_dns1123_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

void check_name(std::string_view value, const std::string& field) {
  if (!is_dns1123_label(value))
    throw Error::Invalid("invalid_name",
                         "must be 1-63 lowercase letters, digits or '-', starting and ending with a letter or "
                         "digit",
                         field);
}

bool Cidr::contains(const Cidr& other) const {
  if (ipv6 != other.ipv6 || other.prefix < prefix) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((address[bit / 8] & mask) != (other.address[bit / 8] & mask)) return false;
  }
  return true;
}

bool parse_canonical_cidr(std::string_view s, Cidr* out) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  std::string addr(s.substr(0, slash));
  std::string_view prefix = s.substr(slash + 1);
  Cidr c;
  c.ipv6 = addr.find(':') != std::string::npos;
  int family = c.ipv6 ? AF_INET6 : AF_INET;
  if (inet_pton(family, addr.c_str(), c.address) != 1) return false;
  // Canonical means the text is exactly what inet_ntop writes back: this rules
  // out leading zeros, upper-case hex and uncompressed IPv6 forms.
  char back[INET6_ADDRSTRLEN];
  if (!inet_ntop(family, c.address, back, sizeof back) || addr != back) return false;
  if (prefix.empty() || prefix.size() > 3 || (prefix.size() > 1 && prefix[0] == '0')) return false;
  auto [end, ec] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), c.prefix);
  if (ec != std::errc() || end != prefix.data() + prefix.size()) return false;
  int max_prefix = c.ipv6 ? 128 : 32;
  if (c.prefix < 0 || c.prefix > max_prefix) return false;
  int bytes = c.ipv6 ? 16 : 4;
  for (int bit = c.prefix; bit < bytes * 8; ++bit)
    if (c.address[bit / 8] & (0x80 >> (bit % 8))) return false;  // host bits set
  *out = c;
  return true;
}

void check_environment_cidr(std::string_view value, const std::string& field) {
  Cidr c;
  if (!parse_canonical_cidr(value, &c) || c.ipv6)
    throw Error::Invalid("invalid_cidr",
                         "must be an IPv4 network in canonical form (e.g. 10.0.0.0/16: no host bits, no leading "
                         "zeros, no spaces)",
                         field);
  static const char* kPrivate[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"};
  bool is_private = std::any_of(std::begin(kPrivate), std::end(kPrivate), [&](const char* p) {
    Cidr range;
    parse_canonical_cidr(p, &range);
    return range.contains(c);
  });
  if (!is_private)
    throw Error::Invalid("cidr_not_private", "must lie within an RFC 1918 range (10/8, 172.16/12, 192.168/16)",
                         field);
  if (c.prefix < 16 || c.prefix > 24)
    throw Error::Invalid("cidr_prefix_out_of_range", "prefix length must be between /16 and /24", field);
}

void check_allowed_ip(std::string_view value, const std::string& field) {
  Cidr c;
  if (!parse_canonical_cidr(value, &c))
    throw Error::Invalid("invalid_cidr",
                         "must be an IPv4 or IPv6 network in canonical form (e.g. 203.0.113.0/24, 127.0.0.1/32)",
                         field);
}

void check_object_fields(const json& body, const std::vector<std::string>& allowed,
                         const std::vector<std::string>& read_only) {
  if (!body.is_object()) throw Error::BadRequest("invalid_body", "request body must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (std::find(read_only.begin(), read_only.end(), key) != read_only.end())
      throw Error::Invalid("read_only_field", "field is read-only", key);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      throw Error::Invalid("unknown_field", "unknown field", key);
  }
}

namespace {
[[noreturn]] void wrong_type(const std::string& key, const char* expected) {
  throw Error::BadRequest("invalid_type", std::string("must be ") + expected, key);
}
}  // namespace

std::string get_string(const json& body, const std::string& key, const std::string& fallback, bool required) {
  auto it = body.find(key);
  if (it == body.end()) {  // a null is no absence: it is a value of the wrong type
    if (required) throw Error::Invalid("required", "field is required", key);
    return fallback;
  }
  if (!it->is_string()) wrong_type(key, "a string");
  return it->get<std::string>();
}

int64_t get_int(const json& body, const std::string& key, int64_t fallback, int64_t min, int64_t max) {
  auto it = body.find(key);
  if (it == body.end()) return fallback;
  if (!it->is_number_integer()) wrong_type(key, "an integer");
  // Unsigned values beyond int64 arrive as number_unsigned; treat as out of range.
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max))
    throw Error::Invalid("out_of_range", "must be between " + std::to_string(min) + " and " + std::to_string(max),
                         key);
  int64_t v = it->get<int64_t>();
  if (v < min || v > max)
    throw Error::Invalid("out_of_range", "must be between " + std::to_string(min) + " and " + std::to_string(max),
                         key);
  return v;
}

std::vector<std::string> get_string_list(const json& body, const std::string& key,
                                         const std::vector<std::string>& fallback, bool required) {
  auto it = body.find(key);
  if (it == body.end()) {
    if (required) throw Error::Invalid("required", "field is required", key);
    return fallback;
  }
  if (!it->is_array()) wrong_type(key, "an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) wrong_type(key + "[" + std::to_string(i) + "]", "a string");
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

}  // namespace byoc::model
