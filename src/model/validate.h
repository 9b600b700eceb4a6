// Field validators shared by every API object. Each throws byoc::Error
// (kInvalid, 422) naming the field at fault; none has side effects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace byoc::model {

// RFC 1123 label as Kubernetes uses it: 1–63 of [a-z0-9-], alphanumeric at both ends.
bool is_dns1123_label(std::string_view s);
void check_name(std::string_view value, const std::string& field);

// An IPv4 or IPv6 network in canonical form: no host bits set, no leading
// zeros, no spaces, IPv6 in RFC 5952 form. `private_ipv4_only` additionally
// demands an RFC 1918 IPv4 network with a prefix between /16 and /24.
struct Cidr {
  bool ipv6 = false;
  uint8_t address[16] = {};
  int prefix = 0;
  bool contains(const Cidr& other) const;
};
bool parse_canonical_cidr(std::string_view s, Cidr* out);
void check_environment_cidr(std::string_view value, const std::string& field);
void check_allowed_ip(std::string_view value, const std::string& field);

// The body must be a JSON object whose keys all appear in `allowed`; a key in
// `read_only` gets a distinct error code.
void check_object_fields(const nlohmann::json& body, const std::vector<std::string>& allowed,
                         const std::vector<std::string>& read_only);

// Typed getters: a missing optional field yields `fallback`; a present field
// of the wrong JSON type — null included, as no field of ours is nullable —
// is a 400 (`invalid_type`).
std::string get_string(const nlohmann::json& body, const std::string& key, const std::string& fallback,
                       bool required = false);
int64_t get_int(const nlohmann::json& body, const std::string& key, int64_t fallback, int64_t min,
                int64_t max);
std::vector<std::string> get_string_list(const nlohmann::json& body, const std::string& key,
                                         const std::vector<std::string>& fallback, bool required = false);

}  // namespace byoc::model
