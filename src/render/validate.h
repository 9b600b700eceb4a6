// Checks the renderers apply to their inputs before turning them into config
// text. A renderer never emits a file the component would misread: a value
// that could break out of its XML element or nginx directive (a quote, a
// semicolon, a brace), a relative path, a port out of range or a malformed
// address is refused with byoc::Error kInvalid naming the field. Pure
// functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace byoc::render {

// An absolute path made only of characters that need no quoting in XML or
// nginx ([A-Za-z0-9/._+-]); `dir` additionally requires a trailing '/' (as
// ClickHouse wants for path, tmp_path, user_files_path, format_schema_path).
void require_absolute_path(std::string_view value, std::string_view field);
void require_absolute_dir(std::string_view value, std::string_view field);

// 1..65535.
void require_port(int port, std::string_view field);

// A literal IPv4 or IPv6 address, or one with a /prefix in range
// ("10.0.0.0/8", "::1/128", "127.0.0.1"). Host bits need not be zero: nginx
// and ClickHouse both mask them.
bool is_ip_or_cidr(std::string_view value);
void require_ip_or_cidr(std::string_view value, std::string_view field);

// Exactly 64 lowercase hex digits (a SHA-256 in users.xml).
void require_sha256_hex(std::string_view value, std::string_view field);

// [A-Za-z_][A-Za-z0-9_-]* up to 63 characters: names that become XML element
// names (cluster, user) or nginx identifiers.
void require_identifier(std::string_view value, std::string_view field);

// &, <, >, " and ' as entities.
std::string xml_escape(std::string_view value);

}  // namespace byoc::render
