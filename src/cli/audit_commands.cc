// `byoc audit list|export|verify`: read an environment's audit log (or the
// plane's, --plane), save it whole, and check it — the checkpoint's
// signature against the log key, every entry against the checkpoint's root,
// and, given a checkpoint kept from before, that the log only grew since.
// Verification trusts nothing the server says but what the pinned key
// signed: pass --key (the verifier key you recorded) to not take the
// server's word for the key either.
#include <fstream>
#include <sstream>

#include "access/audit_verify.h"
#include "base/crypto.h"
#include "base/error.h"
#include "base/files.h"
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

constexpr int64_t kPage = 1000;

struct LogFlags {
  std::string environment;
  bool plane = false;
  std::string organization;
  std::string format;
};

void add_log_options(CLI::App* sub, LogFlags& f) {
  auto* env = sub->add_option("--env", f.environment, "The environment whose log to read");
  auto* plane = sub->add_flag("--plane", f.plane, "The plane's own log (organisations, tokens; admins only)");
  env->excludes(plane);
  add_organization_option(sub, f.organization);
}

void check_log_choice(const LogFlags& f) {
  if (f.environment.empty() && !f.plane) throw CLI::ValidationError("--env", "give --env NAME or --plane");
}

std::string log_path(const LogFlags& f) {
  return f.plane ? "/v1/audit" : environment_path(f.environment) + "/audit";
}

std::string with_org(const LogFlags& f, std::string path) {
  return f.plane ? path : with_organization(path, f.organization);
}

// The whole log as the server holds it, up to `size` entries: the exact bytes.
std::vector<std::string> fetch_entries(ApiClient& api, const LogFlags& f, uint64_t size) {
  std::vector<std::string> entries;
  while (entries.size() < size) {
    std::string path = with_query(log_path(f), "start", std::to_string(entries.size()));
    path = with_org(f, with_query(path, "limit", std::to_string(std::min<uint64_t>(kPage, size - entries.size()))));
    json page = api.get(path);
    if (!page.contains("items") || !page["items"].is_array() || page["items"].empty())
      throw Error::Invalid("short_log", "the server served " + std::to_string(entries.size()) +
                                            " entries of a log whose checkpoint counts " + std::to_string(size));
    for (const auto& item : page["items"]) {
      auto bytes = item.contains("entry_b64") && item["entry_b64"].is_string()
                       ? crypto::base64_decode(item["entry_b64"].get<std::string>())
                       : std::nullopt;
      if (!bytes) throw Error::Invalid("bad_entry", "the server served an entry without its bytes");
      entries.push_back(std::move(*bytes));
    }
  }
  entries.resize(size);
  return entries;
}

// The origin the log's checkpoints must name: derived from the key and the
// environment's id (never taken from the checkpoint itself).
std::string expected_origin(ApiClient& api, const LogFlags& f, const access::note::Verifier& key) {
  if (f.plane) return access::plane_log_origin(key);
  json env = api.get(with_organization(environment_path(f.environment), f.organization));
  return access::environment_log_origin(key, env.value("id", ""));
}

std::string entry_summary(const json& entry) {
  if (!entry.is_object()) return "";
  std::string who;
  if (entry.contains("actor") && entry["actor"].is_object()) {
    const json& a = entry["actor"];
    who = a.value("subject", "");
    if (who.empty()) who = a.value("kind", "") + ":" + a.value("id", "");
  }
  return who;
}

std::string render_entries(const json& page) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& item : page.value("items", json::array())) {
    const json& e = item.contains("entry") ? item["entry"] : json();
    std::string time = e.is_object() && e.contains("time_ms") && e["time_ms"].is_number_integer()
                           ? format_rfc3339(e["time_ms"].get<int64_t>() / 1000)
                           : "";
    rows.push_back({cell(item, "index"), time, entry_summary(e), e.is_object() ? cell(e, "action") : "",
                    e.is_object() ? cell(e, "outcome") : "", e.is_object() ? cell(e, "error_code") : ""});
  }
  return render_table({"INDEX", "TIME", "WHO", "ACTION", "OUTCOME", "ERROR"}, rows);
}

void add_list(CLI::App* audit, CommandSet& commands) {
  struct Flags : LogFlags {
    int64_t start = 0;
    int64_t limit = 100;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = audit->add_subcommand("list", "List audit log entries");
  add_log_options(sub, *f);
  sub->add_option("--start", f->start, "First index (default 0)")->check(CLI::NonNegativeNumber);
  sub->add_option("--limit", f->limit, "How many (1-1000, default 100)")->check(CLI::Range(1, 1000));
  add_output_option(sub, f->format);
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        std::string path = with_query(log_path(*f), "start", std::to_string(f->start));
        path = with_org(*f, with_query(path, "limit", std::to_string(f->limit)));
        print_result(io, f->format, connect(io)->get(path), render_entries);
        return 0;
      },
      [f] { check_log_choice(*f); });
}

void add_export(CLI::App* audit, CommandSet& commands) {
  struct Flags : LogFlags {
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = audit->add_subcommand(
      "export", "Save a whole audit log with its signed checkpoint and key (verify it offline with --file)");
  add_log_options(sub, *f);
  sub->add_option("--out", f->out, "Write to this file (default: standard output)");
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        auto api = connect(io);
        std::string key = api->get("/v1/audit/key").value("verifier_key", "");
        std::string note = api->get_text(with_org(*f, log_path(*f) + "/checkpoint"));
        auto verifier = access::note::parse_verifier(key);
        std::string origin = expected_origin(*api, *f, verifier);
        auto checkpoint = access::open_checkpoint(note, verifier, origin);
        json entries = json::array();
        for (const auto& e : fetch_entries(*api, *f, checkpoint.size)) entries.push_back(crypto::base64(e));
        json out = {{"origin", origin}, {"verifier_key", key}, {"checkpoint", note}, {"entries", entries}};
        if (f->out.empty()) {
          io.out << out.dump(2) << "\n";
        } else {
          files::write_atomic(f->out, out.dump(2) + "\n", 0600);
          io.err << "wrote " << checkpoint.size << " entries to " << f->out << "\n";
        }
        return 0;
      },
      [f] { check_log_choice(*f); });
}

void add_verify(CLI::App* audit, CommandSet& commands) {
  struct Flags : LogFlags {
    std::string key;
    std::string file;
    std::string checkpoint;
    std::string save_checkpoint;
  };
  auto f = std::make_shared<Flags>();
  auto* sub = audit->add_subcommand(
      "verify", "Check an audit log: signature, every entry against the root, consistency with a kept checkpoint");
  add_log_options(sub, *f);
  sub->add_option("--file", f->file, "Verify an export (byoc audit export) instead of asking the server");
  sub->add_option("--key", f->key, "The log's verifier key you trust (default: the one the server names)");
  sub->add_option("--checkpoint", f->checkpoint, "A checkpoint kept from before: the log must extend it");
  sub->add_option("--save-checkpoint", f->save_checkpoint, "Keep the verified checkpoint in this file");
  add_output_option(sub, f->format);
  on_run(
      sub, commands,
      [f, &io = commands.io] {
        std::string key_text = f->key;
        std::string note;
        std::string origin;
        std::vector<std::string> entries;
        std::unique_ptr<ApiClient> api;
        std::optional<access::note::Verifier> key;
        if (!f->file.empty()) {
          json exported = json::parse(files::read_user_file(f->file, "export file"), nullptr, false);
          if (!exported.is_object() || !exported.contains("checkpoint") || !exported["checkpoint"].is_string() ||
              !exported.contains("entries") || !exported["entries"].is_array() || !exported.contains("origin") ||
              !exported["origin"].is_string())
            throw Error::Invalid("bad_export", f->file + " is not an audit log export");
          if (key_text.empty()) key_text = exported.value("verifier_key", "");
          note = exported["checkpoint"];
          origin = exported["origin"];
          for (const auto& e : exported["entries"]) {
            auto bytes = e.is_string() ? crypto::base64_decode(e.get<std::string>()) : std::nullopt;
            if (!bytes) throw Error::Invalid("bad_export", f->file + " holds an entry that is not base64");
            entries.push_back(std::move(*bytes));
          }
          key = access::note::parse_verifier(key_text);
          // An export's origin must be one of this key's logs.
          std::string environments = access::environment_log_origin(*key, "");
          bool ours = origin == access::plane_log_origin(*key) ||
                      (origin.size() > environments.size() && origin.rfind(environments, 0) == 0);
          if (!ours) throw Error::Invalid("wrong_origin", "the export's origin is not a log of this key");
        } else {
          check_log_choice(*f);
          api = connect(io);
          if (key_text.empty()) key_text = api->get("/v1/audit/key").value("verifier_key", "");
          key = access::note::parse_verifier(key_text);
          origin = expected_origin(*api, *f, *key);
          note = api->get_text(with_org(*f, log_path(*f) + "/checkpoint"));
          entries = fetch_entries(*api, *f, access::open_checkpoint(note, *key, origin).size);
        }
        access::Checkpoint current = access::verify_log(entries, note, *key, origin);
        json result = {{"verified", true},
                       {"origin", origin},
                       {"size", current.size},
                       {"root", crypto::base64(current.root)},
                       {"verifier_key", key_text}};
        if (!f->checkpoint.empty()) {
          access::Checkpoint kept =
              access::open_checkpoint(files::read_user_file(f->checkpoint, "checkpoint file"), *key, origin);
          access::verify_prefix(kept, entries);
          // The server's own proof too, when asked online: it must agree.
          if (api && kept.size > 0 && kept.size < current.size) {
            json proof = api->get(with_org(*f, with_query(with_query(log_path(*f) + "/proof/consistency", "first",
                                                                     std::to_string(kept.size)),
                                                          "second", std::to_string(current.size))));
            std::vector<access::merkle::Hash> hashes;
            for (const auto& h : proof.value("hashes", json::array())) {
              auto bytes = h.is_string() ? crypto::base64_decode(h.get<std::string>()) : std::nullopt;
              if (!bytes) throw Error::Invalid("bad_proof", "the server's consistency proof is not base64");
              hashes.push_back(std::move(*bytes));
            }
            access::verify_extends(kept, current, hashes);
          }
          result["extends"] = {{"checkpoint", f->checkpoint}, {"size", kept.size}};
        }
        if (!f->save_checkpoint.empty()) files::write_atomic(f->save_checkpoint, note, 0600);
        print_result(io, f->format, result, [](const json& r) {
          std::string out = "verified " + std::to_string(r["size"].get<uint64_t>()) + " entries of " +
                            r["origin"].get<std::string>() + "\nroot " + r["root"].get<std::string>() +
                            "\nsigned by " + r["verifier_key"].get<std::string>() + "\n";
          if (r.contains("extends"))
            out += "extends the checkpoint in " + r["extends"]["checkpoint"].get<std::string>() + " (" +
                   std::to_string(r["extends"]["size"].get<uint64_t>()) + " entries)\n";
          return out;
        });
        return 0;
      },
      [f] {
        if (f->file.empty()) check_log_choice(*f);
      });
}

}  // namespace

void add_audit_commands(CLI::App& app, CommandSet& commands) {
  auto* audit = app.add_subcommand("audit", "Read and verify the tamper-evident audit logs");
  audit->require_subcommand(1);
  add_list(audit, commands);
  add_export(audit, commands);
  add_verify(audit, commands);
}

}  // namespace byoc::cli
