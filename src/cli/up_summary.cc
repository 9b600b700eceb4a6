#include "cli/up_summary.h"

namespace byoc::cli {

namespace {

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  bool plain = !text.empty();
  for (char c : text) {
    bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                std::string_view("_./:@%+=,-").find(c) != std::string_view::npos;
    if (!safe) plain = false;
  }
  if (plain) return text;
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string render_up_summary(const UpSummary& s) {
  const bool shown = !s.password.empty();
  std::string out = "ready\n";
  out += "endpoint: " + s.endpoint + "\n";
  out += "user: default\n";
  out += shown ? "password: " + s.password + "\n"
               : "password: (shown at first start; saved in " + s.password_file.string() + ")\n";
  if (!s.ca_file.empty()) out += "ca: " + s.ca_file.string() + "\n";

  // The saved file keeps the password out of shell history on later runs.
  std::string credentials = shown ? shell_quote("default:" + s.password)
                                  : "\"default:$(cat " + shell_quote(s.password_file.string()) + ")\"";
  out += "\ncurl:\n  curl";
  if (!s.ca_file.empty()) out += " --cacert " + shell_quote(s.ca_file.string());
  out += " --user " + credentials + " --data-binary 'SELECT 1' " + shell_quote(s.endpoint + "/") + "\n";
  if (s.ca_file.empty()) out += "  (the server published no CA for this environment: add --cacert with it)\n";

  out += "clickhouse-client:\n";
  if (!s.native_endpoint.empty() && !s.ca_file.empty()) {
    auto colon = s.native_endpoint.rfind(':');
    std::string host = s.native_endpoint.substr(0, colon);
    std::string port = colon == std::string::npos ? "9440" : s.native_endpoint.substr(colon + 1);
    std::string password =
        shown ? shell_quote(s.password) : "\"$(cat " + shell_quote(s.password_file.string()) + ")\"";
    out += "  clickhouse-client --config-file " + shell_quote(s.client_config.string()) +
           " --secure --host " + shell_quote(host) + " --port " + shell_quote(port) +
           " --user default --password " + password + "\n";
  } else {
    out += "  (this service has no native TLS endpoint: use the HTTPS endpoint, as with curl above)\n";
  }
  if (!s.logged_in_to.empty())
    out += "byoc (logged in to " + s.logged_in_to + ", from any shell):\n  byoc env list\n"
           "  byoc service get demo --env demo\n";
  out += "\nPress Ctrl-C to stop.\n";
  return out;
}

std::string render_clickhouse_client_config(const std::filesystem::path& ca_file) {
  return "<config>\n"
         "  <openSSL>\n"
         "    <client>\n"
         "      <loadDefaultCAFile>false</loadDefaultCAFile>\n"
         "      <caConfig>" +
         xml_escape(ca_file.string()) +
         "</caConfig>\n"
         "      <verificationMode>relaxed</verificationMode>\n"
         "      <invalidCertificateHandler>\n"
         "        <name>RejectCertificateHandler</name>\n"
         "      </invalidCertificateHandler>\n"
         "    </client>\n"
         "  </openSSL>\n"
         "</config>\n";
}

}  // namespace byoc::cli
