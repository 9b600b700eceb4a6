// `byoc token create|list|delete`, `byoc org create|list` and `byoc plane
// list` (admin tokens only; the server answers 403 to any other role).
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct TokenCreateFlags {
  TokenCreateArgs args;
  std::string format;
};

struct IdFlags {
  std::string id;
  std::string format;
};

void add_token_create(CLI::App* token, CommandSet& commands) {
  auto f = std::make_shared<TokenCreateFlags>();
  auto* sub = token->add_subcommand("create", "Mint an API token (its secret is shown only once)");
  sub->add_option("--role", f->args.role,
                  "admin (everything), operator or approver (vendor staff: read any organisation), "
                  "customer (read and write its own organisation)")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "approver", "customer"}));
  sub->add_option("--organization", f->args.organization,
                  "Organisation the token belongs to (default: default)");
  sub->add_option("--subject", f->args.subject,
                  "Who holds it, e.g. alice@vendor.example (required for admin, operator and approver)");
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format, connect(io)->post(token_path(""), token_create_body(f->args)), render_token);
    return 0;
  });
}

void add_token_list(CLI::App* token, CommandSet& commands) {
  auto format = std::make_shared<std::string>();
  auto* sub = token->add_subcommand("list", "List API tokens (ids and roles; never their secrets)");
  add_output_option(sub, *format);
  on_run(sub, commands, [format, &io = commands.io] {
    print_result(io, *format, connect(io)->get(token_path("")), render_token_list);
    return 0;
  });
}

void add_token_delete(CLI::App* token, CommandSet& commands) {
  auto f = std::make_shared<IdFlags>();
  auto* sub = token->add_subcommand("delete", "Revoke an API token at once (not the one you are using)");
  sub->add_option("ID", f->id, "Token id, as `byoc token list` shows it")->required();
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    connect(io)->del(token_path(f->id));  // 204: nothing to print but the fact
    print_result(io, f->format, json{{"id", f->id}, {"deleted", true}},
                 [&](const json&) { return "token " + f->id + " deleted\n"; });
    return 0;
  });
}

void add_org_create(CLI::App* org, CommandSet& commands) {
  auto f = std::make_shared<IdFlags>();
  auto* sub = org->add_subcommand("create", "Create an organisation (environments and tokens belong to one)");
  sub->add_option("NAME", f->id, "Organisation name (DNS label)")->required();
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format, connect(io)->post("/v1/organizations", organization_create_body(f->id)),
                 render_organization);
    return 0;
  });
}

void add_org_list(CLI::App* org, CommandSet& commands) {
  auto format = std::make_shared<std::string>();
  auto* sub = org->add_subcommand("list", "List organisations");
  add_output_option(sub, *format);
  on_run(sub, commands, [format, &io = commands.io] {
    print_result(io, *format, connect(io)->get("/v1/organizations"), render_organization_list);
    return 0;
  });
}

void add_plane_list(CLI::App* plane, CommandSet& commands) {
  auto format = std::make_shared<std::string>();
  auto* sub = plane->add_subcommand("list", "List the plane's live servers, as the one asked knows them");
  add_output_option(sub, *format);
  on_run(sub, commands, [format, &io = commands.io] {
    print_result(io, *format, connect(io)->get("/v1/servers"), render_server_list);
    return 0;
  });
}

}  // namespace

void add_plane_commands(CLI::App& app, CommandSet& commands) {
  auto* plane = app.add_subcommand("plane", "The management plane's servers (admin; several share a PostgreSQL store)");
  plane->require_subcommand(1);
  add_plane_list(plane, commands);
}

void add_token_commands(CLI::App& app, CommandSet& commands) {
  auto* token = app.add_subcommand("token", "Manage API tokens (admin)");
  token->require_subcommand(1);
  add_token_create(token, commands);
  add_token_list(token, commands);
  add_token_delete(token, commands);
}

void add_org_commands(CLI::App& app, CommandSet& commands) {
  auto* org = app.add_subcommand("org", "Manage organisations (admin)");
  org->require_subcommand(1);
  add_org_create(org, commands);
  add_org_list(org, commands);
}

}  // namespace byoc::cli
