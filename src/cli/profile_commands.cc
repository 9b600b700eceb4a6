// `byoc profile list --env E`: the replica sizes an environment offers; and
// `byoc cloud list`: the clouds the server drives (what `env create --cloud` takes).
#include "cli/requests.h"
#include "cli/resource_commands.h"

namespace byoc::cli {
using nlohmann::json;

void add_profile_commands(CLI::App& app, CommandSet& commands) {
  struct Flags {
    std::string environment;
    std::string organization;
    std::string format;
  };
  auto* profile =
      app.add_subcommand("profile", "Replica profiles: ready-made sizes for `service create --profile`");
  profile->require_subcommand(1);
  auto f = std::make_shared<Flags>();
  auto* sub = profile->add_subcommand("list", "List the profiles an environment offers (one per node type)");
  sub->add_option("--env", f->environment, "Environment")->required();
  add_organization_option(sub, f->organization);
  add_output_option(sub, f->format);
  on_run(sub, commands, [f, &io = commands.io] {
    print_result(io, f->format,
                 connect(io)->get(with_organization(profiles_path(f->environment), f->organization)),
                 render_profile_list);
    return 0;
  });
}

void add_cloud_commands(CLI::App& app, CommandSet& commands) {
  auto* cloud = app.add_subcommand("cloud", "The clouds environments can run in, as the server knows them");
  cloud->require_subcommand(1);
  auto format = std::make_shared<std::string>();
  auto* sub = cloud->add_subcommand("list", "List the clouds with their regions and defaults");
  add_output_option(sub, *format);
  on_run(sub, commands, [format, &io = commands.io] {
    print_result(io, *format, connect(io)->get("/v1/clouds"), render_cloud_list);
    return 0;
  });
}

}  // namespace byoc::cli
