// Rendering what the API returns for a human (aligned tables, key/value
// detail views) or for a program (JSON), and the one-line error format.
//
// Pure functions of their inputs: no I/O, thread-safe. They tolerate missing
// or extra fields (a newer server may add some; an older may lack some) and
// never print secrets except a `password` the caller put in on purpose or the
// `token` of a token create (the only answer that ever carries it).
#pragma once

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::cli {

enum class OutputFormat { kTable, kJson };

// One line per key, values aligned after the longest key (the detail views).
std::string render_details(const std::vector<std::pair<std::string, std::string>>& fields);

// "table" | "json"; throws byoc::Error (invalid, field "output") otherwise.
OutputFormat parse_output_format(std::string_view text);

// Columns separated by three spaces, padded to the widest cell; the last
// column is not padded (no trailing blanks). Ends with a newline per row.
std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// The value of object[key] as one table cell: strings as-is, numbers and
// booleans in JSON form, arrays joined by ',', null/missing as "".
std::string cell(const nlohmann::json& object, const std::string& key);

std::string render_environment_list(const nlohmann::json& items);
// With the capacity settings (instance types, DaemonSet reservations) for
// aws environments, or whenever they are set.
std::string render_environment(const nlohmann::json& environment);
// POST …/verify: granted or not, why, and each finding of the pre-flight.
std::string render_access_check(const nlohmann::json& check);
std::string render_service_list(const nlohmann::json& items);
// Includes `password` (with a warning that it is shown once) when present,
// and `profile` and `native_endpoint` when the service has them.
std::string render_service(const nlohmann::json& service);
// NAME, INSTANCE TYPE, $/H ("-" for the host), ALLOCATABLE and REQUESTS as
// "CPUm/MEMORYMi", SSD CACHE GIB, NODE GROUP.
std::string render_profile_list(const nlohmann::json& items);
// NAME, REGIONS, DEFAULT REGION, PROFILES FROM (catalogue | host), SUMMARY.
std::string render_cloud_list(const nlohmann::json& items);
// id, role, organization, created, and the secret `token` when present
// (with a warning that it is shown once).
std::string render_token(const nlohmann::json& token);
std::string render_token_list(const nlohmann::json& items);
std::string render_server_list(const nlohmann::json& items);
std::string render_organization(const nlohmann::json& organization);
std::string render_organization_list(const nlohmann::json& items);
// Includes a top-level `password` (the 202 answer of a service create).
std::string render_operation(const nlohmann::json& operation);

// Pretty JSON (2-space indent) and a trailing newline.
std::string render_json(const nlohmann::json& value);

// "error: <message> (field: <field>)" on one line: newlines in the message are
// folded to spaces; " (field: …)" only when field is non-empty.
std::string error_line(std::string_view message, std::string_view field = "");
std::string error_line(const std::exception& error);

}  // namespace byoc::cli
