// `byoc login`: pin the server's CA, check the token, save the config.
//
// Trust on first use, like ssh: without --ca-file we read the chain the
// server presents, take its last certificate (the server's CA), print its
// SHA-256 fingerprint so the user can compare it out of band, and pin it.
// With --ca-file we pin that file instead and the TLS handshake proves the
// server holds a certificate it issued. Either way the token is sent only
// over a connection verified against the pinned CA.
#include <algorithm>

#include "base/crypto.h"
#include "base/files.h"
#include "cli/config.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct Flags {
  std::string server;
  std::string token_file;
  std::string ca_file;
};

std::string trim(std::string text) {
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : text.substr(first, last - first + 1);
}

// "ab:cd:…" — the form most tools print fingerprints in.
std::string colon_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    if (i) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

std::string pin_from_file(const std::string& ca_file) {
  auto pem = files::read_if_exists(ca_file);
  if (!pem) throw Error::Invalid("bad_ca_file", ca_file + " does not exist", "ca-file");
  if (crypto::split_pem_certificates(*pem).empty())
    throw Error::Invalid("bad_ca_file", ca_file + " holds no PEM certificate", "ca-file");
  return *pem;
}

std::string pin_on_first_use(const std::string& server, std::ostream& err) {
  auto chain = http::Client().peer_certificates(server + "/healthz");
  if (chain.empty()) throw Error::Unavailable("the server at " + server + " presented no certificate");
  const std::string& ca = chain.back();
  auto info = crypto::inspect(ca);
  if (!info.is_ca)
    throw Error::Invalid("no_server_ca",
                         "the server's chain does not end with a CA certificate (last is CN=" +
                             info.common_name + "); pass its CA with --ca-file");
  err << "server CA: CN=" << info.common_name << "\n"
      << "SHA-256 fingerprint: " << colon_hex(crypto::certificate_sha256_hex(ca)) << "\n"
      << "trusting it on first use (pass --ca-file to check it against a file instead)\n";
  return ca;
}

}  // namespace

void add_login_command(CLI::App& app, CommandSet& commands) {
  auto f = std::make_shared<Flags>();
  auto* sub =
      app.add_subcommand("login", "Pin a server's CA, check a token and save both for later commands");
  sub->add_option("--server", f->server, "https://HOST:PORT of the byoc server")->required();
  sub->add_option("--token-file", f->token_file,
                  "File holding the API token (never pass it on the command line)")
      ->required();
  sub->add_option("--ca-file", f->ca_file, "The server CA to trust (default: pin what it presents)");
  on_run(sub, commands, [f, &io = commands.io] {
    ClientConfig config;
    config.server = normalize_server_url(f->server, "server");
    auto token = files::read_if_exists(f->token_file);
    if (!token) throw Error::Invalid("bad_token_file", f->token_file + " does not exist", "token-file");
    config.token = trim(*token);
    if (config.token.empty())
      throw Error::Invalid("bad_token_file", f->token_file + " is empty", "token-file");
    config.ca_pem = f->ca_file.empty() ? pin_on_first_use(config.server, io.err) : pin_from_file(f->ca_file);

    ApiClient api(config);
    json environments = api.get("/v1/environments");  // proves both the pin and the token
    auto path = config_path(io.env);
    write_config(path, config);
    size_t count =
        environments.contains("items") && environments["items"].is_array() ? environments["items"].size() : 0;
    io.out << "logged in to " << config.server << " (" << count << " environment" << (count == 1 ? "" : "s")
           << "); saved " << path.string() << "\n";
    return 0;
  });
}

}  // namespace byoc::cli
