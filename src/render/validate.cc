#include "render/validate.h"

#include <arpa/inet.h>

#include <charconv>

#include "base/error.h"

namespace byoc::render {
namespace {

[[noreturn]] void invalid(std::string_view field, const std::string& message) {
  throw Error::Invalid("invalid_config_value", std::string(field) + ": " + message, std::string(field));
}

bool is_path_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
         c == '_' || c == '-' || c == '+';
}

}  // namespace

void require_absolute_path(std::string_view value, std::string_view field) {
  if (value.empty() || value.front() != '/') invalid(field, "must be an absolute path");
  for (char c : value)
    if (!is_path_char(c)) invalid(field, "path has a character outside [A-Za-z0-9/._+-]");
  // ".." would let a path escape the directory a caller meant, and nothing we
  // render needs it.
  if (value.find("/../") != std::string_view::npos || value.ends_with("/.."))
    invalid(field, "path must not contain '..'");
}

void require_absolute_dir(std::string_view value, std::string_view field) {
  require_absolute_path(value, field);
  if (value.back() != '/') invalid(field, "directory path must end with '/'");
}

void require_port(int port, std::string_view field) {
  if (port < 1 || port > 65535) invalid(field, "port out of range 1..65535");
}

bool is_ip_or_cidr(std::string_view value) {
  auto slash = value.find('/');
  std::string address(value.substr(0, slash));
  unsigned char buffer[16];
  int max_prefix = 0;
  if (::inet_pton(AF_INET, address.c_str(), buffer) == 1) {
    max_prefix = 32;
  } else if (::inet_pton(AF_INET6, address.c_str(), buffer) == 1) {
    max_prefix = 128;
  } else {
    return false;
  }
  if (slash == std::string_view::npos) return true;
  std::string_view digits = value.substr(slash + 1);
  if (digits.empty() || digits.size() > 3) return false;
  int prefix = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
  return ec == std::errc() && end == digits.data() + digits.size() && prefix >= 0 && prefix <= max_prefix;
}

void require_ip_or_cidr(std::string_view value, std::string_view field) {
  if (!is_ip_or_cidr(value)) invalid(field, "not an IP address or CIDR: '" + std::string(value) + "'");
}

void require_sha256_hex(std::string_view value, std::string_view field) {
  if (value.size() != 64) invalid(field, "must be 64 hex digits");
  for (char c : value)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) invalid(field, "must be lowercase hex");
}

void require_identifier(std::string_view value, std::string_view field) {
  if (value.empty() || value.size() > 63) invalid(field, "must be 1..63 characters");
  auto ok_first = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!ok_first(value.front())) invalid(field, "must start with a letter or '_'");
  for (char c : value)
    if (!ok_first(c) && !(c >= '0' && c <= '9') && c != '-') invalid(field, "must be made of [A-Za-z0-9_-]");
}

std::string xml_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace byoc::render
