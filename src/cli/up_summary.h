// What `byoc up` prints once the demo service answers: the `ready` line,
// the endpoint and credentials, and commands a user can paste as they are.
// Pure functions; thread-safe.
#pragma once

#include <filesystem>
#include <string>

namespace byoc::cli {

struct UpSummary {
  std::string endpoint;                 // https://HOST:PORT
  std::string password;                 // empty: not shown again (reused service)
  std::filesystem::path password_file;  // DIR/demo.password
  std::filesystem::path ca_file;        // empty: the server published no environment CA
  std::string native_endpoint;          // HOST:PORT of native TLS, empty if the service has none
  std::filesystem::path client_config;  // clickhouse-client config trusting ca_file
  std::string logged_in_to;             // the server the CLI's saved login now points at
};

// Lines (each ending in '\n'):
//   ready / endpoint: … / user: default / password: … / ca: …
//   then a curl command, a clickhouse-client command (or why there is none),
//   the byoc commands the saved login serves, and how to stop.
std::string render_up_summary(const UpSummary& summary);

// The clickhouse-client config (Poco openSSL client section) that trusts
// exactly `ca_file` for --secure connections.
std::string render_clickhouse_client_config(const std::filesystem::path& ca_file);

// Quotes `text` for a POSIX shell when it holds anything but [A-Za-z0-9_./:@%+=,-].
std::string shell_quote(const std::string& text);

}  // namespace byoc::cli
