// `byoc access request|list|get|approve|deny|revoke|done|login|query|kubeconfig|keygen`:
// troubleshooting access to an environment. An operator asks (the CLI makes
// a fresh key and sends only its CSR: the private key stays in
// ~/.config/byoc/access/<id>.key, 0600), approvers and the environment's
// customer review (a customer signs the grant with its own key,
// --customer-key), and the requester collects the certificate the
// environment's agent issues (`login`) into the same directory — or, for a
// kubernetes-readonly grant, a kubeconfig holding it (`kubeconfig`).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "access/access_request.h"
#include "access/signed_note.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "cli/config.h"
#include "cli/endpoint_query.h"
#include "cli/requests.h"
#include "cli/resource_commands.h"
#include "cli/support_kubeconfig.h"

namespace byoc::cli {
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::seconds kLoginPoll{2};

struct IdFlags {
  std::string id;
  std::string format;
};

// Where access keys and certificates live: `access/` beside the config file.
fs::path access_dir(const EnvLookup& env) { return config_path(env).parent_path() / "access"; }

// The directory, made 0700 (and the config directory above it, as `byoc
// login` makes it).
fs::path ensure_access_dir(const EnvLookup& env) {
  fs::path dir = access_dir(env);
  files::ensure_dir(dir.parent_path(), 0700);
  files::ensure_dir(dir, 0700);
  return dir;
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

// Writes `content` to `path` with `mode`, refusing to replace a file that is
// there: the content goes to a temporary name first and is linked into place
// (link(2) never overwrites), so `path` is either absent or whole.
void write_new_file(const fs::path& path, std::string_view content, unsigned mode) {
  fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (fs::exists(fs::symlink_status(path)))
    throw Error::Conflict("exists", path.string() + " already exists: not overwriting it");
  fs::path tmp = dir / ("." + path.filename().string() + ".new-" + crypto::hex(crypto::random_bytes(6)));
  files::write_atomic(tmp, content, mode);
  int rc = ::link(tmp.c_str(), path.c_str());
  int error = errno;
  remove_quietly(tmp);
  if (rc != 0 && error == EEXIST)
    throw Error::Conflict("exists", path.string() + " already exists: not overwriting it");
  if (rc != 0) throw Error::Internal("cannot write " + path.string() + ": " + std::strerror(error));
}

// The key `byoc access request` left for request `id`, and where.
struct RequestKey {
  fs::path dir;
  fs::path file;
  std::string pem;
};
RequestKey request_key(const EnvLookup& env, const std::string& id) {
  RequestKey key{access_dir(env), access_dir(env) / (id + ".key"), ""};
  auto pem = files::read_if_exists(key.file);
  if (!pem)
    throw Error::Invalid("no_key", "no key for access request " + id + " in " + key.file.string() +
                                       ": the certificate is useless without it (request again)");
  key.pem = *pem;
  return key;
}

// The certificate of a certificate answer, which must be for `key` (from `key_file`).
std::string issued_certificate(const json& issued, const std::string& key, const fs::path& key_file) {
  std::string certificate = cell(issued, "certificate");
  if (certificate.empty()) throw Error::Internal("the server's answer carries no certificate");
  if (!crypto::certificate_matches_key(certificate, key))
    throw Error::Invalid("wrong_certificate",
                         "the certificate the server gave is not for the key in " + key_file.string());
  return certificate;
}

std::string trim_right(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t'))
    text.pop_back();
  return text;
}

std::string duration_cell(const json& r) {
  auto it = r.is_object() ? r.find("duration_seconds") : r.end();
  if (!r.is_object() || it == r.end() || !it->is_number_integer()) return cell(r, "duration_seconds");
  return format_duration_seconds(it->get<int64_t>());
}


std::string render_access_request(const json& r) {
  const json needs = r.is_object() && r.contains("required") && r["required"].is_object() ? r["required"] : json();
  std::string required = cell(needs, "approvals");
  if (!required.empty()) required += required == "1" ? " approval" : " approvals";
  if (cell(needs, "customer") == "true") required += " and the customer's";
  std::vector<std::pair<std::string, std::string>> fields = {
      {"id", cell(r, "id")},
      {"environment", cell(r, "environment")},
      {"organization", cell(r, "organization")},
      {"scope", cell(r, "scope")},
      {"requester", cell(r, "requester")},
      {"reason", cell(r, "reason")},
      {"duration", duration_cell(r)},
      {"state", cell(r, "state")},
      {"required", required},
      {"customer_approval", cell(r, "customer_approval")},
      {"key_sha256", cell(r, "csr_public_key_sha256")},
      {"created", cell(r, "created_at")},
      {"updated", cell(r, "updated_at")}};
  // What the request's state gives it: shown only when there is something.
  for (const auto& [key, label] : std::vector<std::pair<std::string, std::string>>{{"expires_at", "expires"},
                                                                                  {"not_before", "not_before"},
                                                                                  {"not_after", "not_after"},
                                                                                  {"certificate_serial", "serial"},
                                                                                  {"refusal", "refusal"},
                                                                                  {"ended_by", "ended_by"}})
    if (!cell(r, key).empty()) fields.emplace_back(label, cell(r, key));
  std::string out = render_details(fields);
  if (r.is_object() && r.contains("reviews") && r["reviews"].is_array() && !r["reviews"].empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : r["reviews"])
      rows.push_back({cell(v, "reviewer"), cell(v, "role"), cell(v, "decision"), cell(v, "time"), cell(v, "reason")});
    out += "reviews:\n";
    std::string table = render_table({"REVIEWER", "ROLE", "DECISION", "TIME", "REASON"}, rows);
    for (size_t start = 0; start < table.size();) {
      size_t end = table.find('\n', start);
      out += "  " + table.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  return out;
}

std::string render_access_request_list(const json& list) {
  std::vector<std::vector<std::string>> rows;
  const json items = list.is_object() && list.contains("items") && list["items"].is_array() ? list["items"]
                                                                                           : json::array();
  for (const auto& r : items)
    rows.push_back({cell(r, "id"), cell(r, "state"), cell(r, "requester"), cell(r, "scope"), duration_cell(r),
                    cell(r, "created_at"), cell(r, "reason")});
  return render_table({"ID", "STATE", "REQUESTER", "SCOPE", "DURATION", "CREATED", "REASON"}, rows);
}

// An id that names files on this machine (<id>.key, <id>.pem): checked before anything is read.
void check_file_id(const std::string& id) {
  if (!valid_access_request_id(id)) throw CLI::ValidationError("ID", "`" + id + "` is not an access request id");
}

void add_id_argument(CLI::App* sub, std::string& id) {
  sub->add_option("ID", id, "Access request id, as `byoc access list` shows it")->required();
}

void add_request(CLI::App* access, CommandSet& commands) {
  struct Flags {
    std::string environment;
    std::string organization;
    std::string duration;
    AccessRequestArgs args;
    std::string format;
  };
  auto f = std::make_shared<Flags>();
  f->args.scope = model::kScopeClickhouseSystem;
  auto* sub = access->add_subcommand(
      "request", "Ask for troubleshooting access to an environment (operators; the private key stays here)");
  sub->add_option("--env", f->environment, "The environment")->required();
  sub->add_option("--scope", f->args.scope,
                  "What to reach: clickhouse-system (system tables) or kubernetes-readonly (the Kubernetes API, "
                  "read-only)")
      ->capture_default_str();
  sub->add_option("--reason", f->args.reason, "Why (shown to the reviewers, kept in the audit log)")->required();
  sub->add_option("--duration", f->duration, "How long the grant lasts: 90s, 45m, 2h, 1h30m or seconds")
      ->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        auto api = connect(io);
        std::string key = crypto::generate_key_pem();
        f->args.csr_pem = crypto::make_csr(key, "byoc-support");
        // The key is on disk before the request exists, under a name of its
        // own until the server names the request.
        fs::path dir = ensure_access_dir(io.env);
        fs::path pending = dir / ("pending-" + crypto::hex(crypto::random_bytes(8)) + ".key");
        files::write_atomic(pending, key, 0600);
        json created;
        try {
          created = api->post(with_organization(access_requests_path(f->environment), f->organization),
                              access_request_body(f->args));
        } catch (const Error& e) {
          // The server said no: there is no request. Unreachable, or a 5xx:
          // the request may exist, so its key is kept.
          bool answered = e.kind() != ErrorKind::kUnavailable && e.kind() != ErrorKind::kInternal;
          if (answered) {
            remove_quietly(pending);
            throw;
          }
          throw Error(e.kind(), e.code(),
                      std::string(e.what()) + " (the key is kept in " + pending.string() + " in case the request was made)",
                      e.field());
        } catch (...) {
          remove_quietly(pending);
          throw;
        }
        std::string id = cell(created, "id");
        if (!valid_access_request_id(id))
          throw Error::Internal("the server named the request `" + id + "`, not a file name: its key is in " +
                                pending.string());
        fs::path saved = dir / (id + ".key");
        files::rename_durable(pending, saved);
        print_result(io, f->format, created, render_access_request);
        io.err << "private key saved in " << saved.string() << "\n";
        return 0;
      },
      [f] {
        auto seconds = parse_duration_seconds(f->duration);
        if (!seconds)
          throw CLI::ValidationError("--duration", "`" + f->duration +
                                                       "` is not a duration: want e.g. 90s, 45m, 2h, 1h30m or a "
                                                       "number of seconds (at least 60)");
        f->args.duration_seconds = *seconds;
      });
}

void add_list(CLI::App* access, CommandSet& commands) {
  struct Flags {
    std::string environment;
    std::string state;
    std::string requester;
    std::string organization;
    std::string format;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = access->add_subcommand("list", "List an environment's access requests");
  sub->add_option("--env", f->environment, "The environment")->required();
  sub->add_option("--state", f->state, "Only requests in this state (PENDING, APPROVED, ACTIVE, DENIED, …)");
  sub->add_option("--requester", f->requester, "Only this requester's");
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    std::string path = with_query(access_requests_path(f->environment), "state", f->state);
    path = with_organization(with_query(path, "requester", f->requester), f->organization);
    print_result(io, f->format, connect(io)->get(path), render_access_request_list);
    return 0;
  });
}

void add_get(CLI::App* access, CommandSet& commands) {
  auto f = std::make_shared<IdFlags>();
  auto* sub = access->add_subcommand("get", "Show an access request and its reviews");
  add_id_argument(sub, f->id);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format, connect(io)->get(access_request_path(f->id)), render_access_request);
    return 0;
  });
}

// The customer's signed approval of the request as the server shows it now —
// which must be the request asked for, and whose exact text is shown on
// stderr, so the customer sees what they sign (the server could describe
// another grant).
std::string customer_approval(ApiClient& api, Io& io, const std::string& id, const std::string& key_file) {
  access::note::Signer signer;
  try {
    signer = access::note::parse_signer(trim_right(files::read_user_file(key_file, "customer key file")));
  } catch (const Error& e) {
    throw Error::Invalid(e.code(), key_file + ": " + e.what());
  }
  model::AccessRequest subject = approval_subject(api.get(access_request_path(id)));
  if (subject.id != id)
    throw Error::Invalid("wrong_request", "the server answered request " + subject.id + " when asked for " + id);
  std::string text = access::approval_text(subject);
  io.err << "signing as " << signer.name << ":\n" << text;
  return access::note::sign(text, {signer});
}

void add_review(CLI::App* access, CommandSet& commands, const std::string& decision) {
  struct Flags : IdFlags {
    std::string reason;
    std::string customer_key;
  };
  auto f = std::make_shared<Flags>();
  bool approve = decision == "approve";
  auto* sub = access->add_subcommand(
      decision, approve ? "Approve an access request (approvers; the environment's customer, with --customer-key "
                          "when it signs its approvals)"
                        : "Deny an access request (approvers, the environment's customer): it ends at once");
  add_id_argument(sub, f->id);
  sub->add_option("--reason", f->reason, "Why (kept in the audit log)")->required();
  if (approve)
    sub->add_option("--customer-key", f->customer_key,
                    "Sign the approval with this customer key (PRIVATE+KEY+…, from `byoc access keygen`)");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, decision, &io = commands.io] {
    auto api = connect(io);
    std::string note = f->customer_key.empty() ? "" : customer_approval(*api, io, f->id, f->customer_key);
    print_result(io, f->format,
                 api->post(access_request_path(f->id, "reviews"), access_review_body(decision, f->reason, note)),
                 render_access_request);
    return 0;
  });
}

void add_end(CLI::App* access, CommandSet& commands, const std::string& action, const std::string& help) {
  auto f = std::make_shared<IdFlags>();
  auto* sub = access->add_subcommand(action, help);
  add_id_argument(sub, f->id);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, action, &io = commands.io] {
    print_result(io, f->format, connect(io)->post(access_request_path(f->id, action), json::object()),
                 render_access_request);
    return 0;
  });
}

void add_login(CLI::App* access, CommandSet& commands) {
  struct Flags : IdFlags {
    int timeout_seconds = 300;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = access->add_subcommand(
      "login", "Wait for an approved request's certificate and save it beside its key (the requester)");
  add_id_argument(sub, f->id);
  sub->add_option("--timeout", f->timeout_seconds, "Give up after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_output_option(sub, f->format);
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        RequestKey key = request_key(io.env, f->id);
        const fs::path& dir = key.dir;
        auto api = connect(io);
        MonotonicTime deadline = io.clock.monotonic_time() + std::chrono::seconds(f->timeout_seconds);
        std::string waiting;  // the server's last word on why not yet
        json issued;
        while (true) {
          try {
            issued = api->get(access_request_path(f->id, "certificate"));
            break;
          } catch (const Error& e) {
            if (e.kind() == ErrorKind::kGone) throw Error::Gone(e.code(), "cannot log in: " + std::string(e.what()));
            if (e.kind() != ErrorKind::kConflict || e.code() != "not_issued") throw;
            if (waiting.empty()) io.err << "waiting: " << e.what() << "\n" << std::flush;
            waiting = e.what();
          }
          MonotonicTime now = io.clock.monotonic_time();
          if (now >= deadline)
            throw Error(ErrorKind::kUnavailable, "timeout",
                        "timed out after " + std::to_string(f->timeout_seconds) + "s: " + waiting);
          io.clock.sleep_until(std::min(deadline, now + kLoginPoll));
        }
        std::string certificate = issued_certificate(issued, key.pem, key.file);
        fs::path certificate_file = dir / (f->id + ".pem");
        fs::path ca_file = dir / (f->id + ".ca.pem");
        files::ensure_dir(dir, 0700);
        files::write_atomic(certificate_file, certificate, 0600);
        std::string ca = cell(issued, "ca");
        if (!ca.empty()) files::write_atomic(ca_file, ca, 0600);
        json result = {{"id", f->id},
                       {"key", key.file.string()},
                       {"certificate", certificate_file.string()},
                       {"ca", ca.empty() ? json(nullptr) : json(ca_file.string())},
                       {"gateway", cell(issued, "gateway")},
                       {"not_after", cell(issued, "not_after")}};
        print_result(io, f->format, result, [](const json& r) {
          return render_details({{"certificate", cell(r, "certificate")},
                                 {"key", cell(r, "key")},
                                 {"ca", cell(r, "ca").empty() ? "(the environment named none)" : cell(r, "ca")},
                                 {"gateway", cell(r, "gateway")},
                                 {"not_after", cell(r, "not_after")}});
        });
        return 0;
      },
      [f] { check_file_id(f->id); });
}

// The gateway of `service` (empty: the first) in a certificate answer.
std::string pick_gateway(const json& issued, const std::string& service) {
  if (issued.contains("gateways") && issued["gateways"].is_array())
    for (const auto& g : issued["gateways"])
      if (g.is_object() && (service.empty() || cell(g, "service") == service)) return cell(g, "gateway");
  if (service.empty() && !cell(issued, "gateway").empty()) return cell(issued, "gateway");
  throw Error::NotFound(service.empty() ? "the environment has no support gateway yet"
                                        : "the environment has no support gateway for service " + service,
                        "service");
}

void add_query(CLI::App* access, CommandSet& commands) {
  struct Flags : IdFlags {
    std::string sql;
    std::string service;
    int timeout_seconds = 60;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = access->add_subcommand(
      "query", "Send one query through a service's support gateway with the request's certificate (after login)");
  add_id_argument(sub, f->id);
  sub->add_option("SQL", f->sql, "The query (the gateway admits reads of the system database)")->required();
  sub->add_option("--service", f->service, "The service whose gateway to use (default: the first)");
  sub->add_option("--timeout", f->timeout_seconds, "Give up after this many seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        fs::path dir = access_dir(io.env);
        auto key = files::read_if_exists(dir / (f->id + ".key"));
        auto certificate = files::read_if_exists(dir / (f->id + ".pem"));
        if (!key || !certificate)
          throw Error::Invalid("not_logged_in", "no certificate for access request " + f->id + " in " +
                                                    dir.string() + ": run `byoc access login " + f->id + "` first");
        // Asked afresh: the gateways may have moved, and a request that
        // ended answers 410 here rather than a refusal at the gateway.
        json issued = connect(io)->get(access_request_path(f->id, "certificate"));
        std::string gateway = pick_gateway(issued, f->service);
        http::Response r = query_support_gateway(gateway, cell(issued, "ca"), *certificate, *key, f->sql,
                                                 std::chrono::seconds(f->timeout_seconds));
        if (r.status != 200) {
          std::string said = r.body.substr(0, 500);
          while (!said.empty() && (said.back() == '\n' || said.back() == '\r')) said.pop_back();
          for (char& c : said)
            if (c == '\n' || c == '\r') c = ' ';
          throw Error(ErrorKind::kForbidden, "gateway_refused",
                      "the gateway answered " + std::to_string(r.status) + (said.empty() ? "" : ": " + said));
        }
        io.out << r.body << std::flush;
        return 0;
      },
      [f] { check_file_id(f->id); });
}

void add_kubeconfig(CLI::App* access, CommandSet& commands) {
  struct Flags : IdFlags {
    std::string output;
    bool force = false;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = access->add_subcommand(
      "kubeconfig", "Write a kubeconfig for an issued kubernetes-readonly grant: kubectl reads the environment's "
                    "Kubernetes API through a support gateway (the requester)");
  add_id_argument(sub, f->id);
  sub->add_option("--output", f->output, "Write it to this file (0600; default: <ID>.kubeconfig beside the key)");
  sub->add_flag("--force", f->force, "Replace the file if it exists");
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        RequestKey key = request_key(io.env, f->id);
        const fs::path& dir = key.dir;
        auto api = connect(io);
        json request = api->get(access_request_path(f->id));
        if (cell(request, "scope") != model::kScopeKubernetesReadonly)
          throw Error::Invalid("wrong_scope", "access request " + f->id + " is for " + cell(request, "scope") +
                                                  ": a kubeconfig is for a kubernetes-readonly grant");
        json issued;
        try {
          issued = api->get(access_request_path(f->id, "certificate"));
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::kGone && e.kind() != ErrorKind::kConflict) throw;
          throw Error(e.kind(), e.code(), "cannot write a kubeconfig: " + std::string(e.what()), e.field());
        }
        std::string certificate = issued_certificate(issued, key.pem, key.file);
        std::string ca = cell(issued, "ca");
        if (ca.empty())
          throw Error::Conflict("no_ca", "the environment's agent has not reported its CA: the gateway can't be verified");
        std::string text = support_kubeconfig({f->id, cell(request, "environment"), pick_support_gateway(issued), ca,
                                               certificate, key.pem})
                               .dump(2) +
                           "\n";
        fs::path out = f->output.empty() ? dir / (f->id + ".kubeconfig") : fs::path(f->output);
        if (f->output.empty()) files::ensure_dir(dir, 0700);
        if (f->force) files::write_atomic(out, text, 0600);
        else write_new_file(out, text, 0600);
        io.out << out.string() << "\n" << std::flush;
        io.err << "kubectl --kubeconfig " << out.string() << " get pods -A   # read-only, until "
               << cell(issued, "not_after") << "\n";
        return 0;
      },
      [f] { check_file_id(f->id); });
}

void add_keygen(CLI::App* access, CommandSet& commands) {
  struct Flags {
    std::string name;
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = access->add_subcommand(
      "keygen", "Make a customer approval key: the signing key goes to --out, the verifier key (for the agent's "
                "policy.json customer_approver_keys) to standard output");
  sub->add_option("--name", f->name, "The key's name, e.g. acme-security (no spaces, no '+')")->required();
  sub->add_option("--out", f->out, "Write the signing key to this new file (0600; never overwritten)")->required();
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        access::note::Signer signer = access::note::make_signer(f->name, crypto::random_bytes(32));
        write_new_file(f->out, access::note::format_signer(signer) + "\n", 0600);
        io.out << access::note::format_verifier(access::note::verifier_of(signer)) << "\n" << std::flush;
        io.err << "signing key written to " << f->out << "\n";
        return 0;
      },
      [f] {
        if (!access::note::valid_key_name(f->name))
          throw CLI::ValidationError("--name", "`" + f->name + "` is not a key name (no spaces, no '+')");
      });
}

}  // namespace

void add_access_commands(CLI::App& app, CommandSet& commands) {
  auto* access = app.add_subcommand("access", "Troubleshooting access to an environment: request, review, log in");
  access->require_subcommand(1);
  add_request(access, commands);
  add_list(access, commands);
  add_get(access, commands);
  add_review(access, commands, "approve");
  add_review(access, commands, "deny");
  add_end(access, commands, "revoke", "End an access request now (approvers, admins, the environment's customer)");
  add_end(access, commands, "done", "End your own access request: the work is finished (the requester)");
  add_login(access, commands);
  add_query(access, commands);
  add_kubeconfig(access, commands);
  add_keygen(access, commands);
}

}  // namespace byoc::cli
