#include "cli/plan_command.h"

#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "base/files.h"
#include "plan/catalogue.h"
#include "plan/maintenance_window_json.h"
#include "plan/placement.h"
#include "plan/placement_json.h"
#include "plan/upgrade/fleet.h"
#include "plan/upgrade/lower_bound.h"
#include "plan/upgrade/simulated_run.h"

namespace byoc::cli {

namespace {

struct PlacementArgs {
  std::string input;
  std::string current;
  int max_migrations = -1;
};

nlohmann::json read_json_file(const std::string& path, const std::string& option) {
  return files::read_user_json(path, option + " file", option);
}

void run_placement(const PlacementArgs& args, bool max_given, std::ostream& out) {
  plan::PlacementInput input = plan::placement_input_from_json(read_json_file(args.input, "--input"));
  if (max_given && args.current.empty()) {
    throw Error::Invalid("missing_current", "--max-migrations needs --current (the plan to re-place)",
                         "max_migrations");
  }
  plan::PlacementPlan result;
  if (args.current.empty()) {
    result = plan::plan_placement(input, plan::Catalogue::builtin());
  } else {
    plan::CurrentPlan current = plan::current_plan_from_json(read_json_file(args.current, "--current"));
    result = plan::plan_scale_in(input, current, max_given ? args.max_migrations : -1, plan::Catalogue::builtin());
  }
  out << plan::to_json(result).dump(2) << "\n";
}

struct WindowArgs {
  std::string window;
  std::string at;
  int64_t drain_minutes = 0;
};

void run_window(const WindowArgs& args, std::ostream& out) {
  plan::MaintenanceWindow window = plan::maintenance_window_from_json(read_json_file(args.window, "--window"));
  auto at = parse_iso8601(args.at);
  if (!at) {
    throw Error::Invalid("invalid_time", "--at must be an RFC 3339 time such as 2026-12-08T09:30:00Z, not '" +
                                             args.at + "'", "at");
  }
  plan::Instant t{std::chrono::seconds{at->seconds}};
  plan::WindowState state = plan::window_at(window, t);
  bool fits = plan::drain_fits(state, t, std::chrono::minutes{args.drain_minutes});
  out << plan::window_answer_json(state, fits).dump(2) << "\n";
}

struct UpgradeArgs {
  std::string fleet;
  uint64_t seed = 1;
  int64_t crash_at = 0;
};

void run_upgrade(const UpgradeArgs& args, std::ostream& out) {
  plan::upgrade::Fleet fleet = plan::upgrade::fleet_from_json(read_json_file(args.fleet, "--fleet"));
  plan::upgrade::SimDurations durations;
  auto run = plan::upgrade::run_simulated_upgrade(fleet, args.seed, args.crash_at, durations);
  auto bound = plan::upgrade::upgrade_lower_bound(fleet, durations);
  out << plan::upgrade::upgrade_report_json(fleet, run, bound).dump(2) << "\n";
}

}  // namespace

void add_plan_commands(CLI::App& app, std::ostream& out) {
  CLI::App* plan = app.add_subcommand("plan", "Offline planners: need no server");
  plan->require_subcommand(1);
  CLI::App* placement = plan->add_subcommand(
      "placement", "Place replicas on EC2 nodes at the lowest $/h (docs/placement.md has the formats)");
  auto args = std::make_shared<PlacementArgs>();
  placement->add_option("--input", args->input, "JSON input: mode, zones, instance types, replicas")->required();
  placement->add_option("--current", args->current, "a previous plan (this command's output) to re-place");
  CLI::Option* max = placement
                         ->add_option("--max-migrations", args->max_migrations,
                                      "with --current: move at most this many replicas (default: no limit)")
                         ->check(CLI::NonNegativeNumber);
  std::ostream* sink = &out;
  placement->callback([args, max, sink] { run_placement(*args, max->count() > 0, *sink); });

  CLI::App* window = plan->add_subcommand(
      "window", "Where an instant stands in a maintenance window (docs/maintenance.md has the format)");
  auto window_args = std::make_shared<WindowArgs>();
  window->add_option("--window", window_args->window, "JSON file: time_zone, weekly rules, blackouts")->required();
  window->add_option("--at", window_args->at, "the instant, RFC 3339 (e.g. 2026-12-08T09:30:00Z)")->required();
  window->add_option("--drain-minutes", window_args->drain_minutes,
                     "a drain's length: fits says whether one started at --at ends before the window closes")
      ->check(CLI::Range(int64_t{0}, int64_t{plan::kWindowHorizon.count()} * 24 * 60));
  window->callback([window_args, sink] { run_window(*window_args, *sink); });

  CLI::App* upgrade = plan->add_subcommand(
      "upgrade", "Run the Kubernetes upgrader against the simulator (docs/upgrades.md has the fleet format)");
  auto upgrade_args = std::make_shared<UpgradeArgs>();
  upgrade->add_option("--fleet", upgrade_args->fleet, "JSON file: cluster, node groups, pods, PDBs, windows, start")
      ->required();
  upgrade->add_option("--seed", upgrade_args->seed, "the simulator's seed (which calls it throttles)");
  upgrade->add_option("--crash-at", upgrade_args->crash_at,
                      "abort at this crash point (1, 2, …: each journal write and each call just sent), then resume")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  upgrade->callback([upgrade_args, sink] { run_upgrade(*upgrade_args, *sink); });
}

void add_plan_commands(CLI::App& app) { add_plan_commands(app, std::cout); }

}  // namespace byoc::cli
