// `byoc env maintenance get|set` and `byoc service maintenance get|set|clear`:
// maintenance policies (docs/maintenance.md).
#include "cli/maintenance_commands.h"

#include "base/clock.h"
#include "base/error.h"
#include "base/files.h"
#include "cli/requests.h"
#include "plan/maintenance_window_json.h"

namespace byoc::cli {
using nlohmann::json;

namespace {

struct Flags {
  std::string name;
  std::string environment;  // services only
  std::string organization;
  std::string window_file;
  bool no_window = false;
  std::string channel;
  std::string format;
};

std::string policy_path(const Flags& f, bool service) {
  std::string path = service ? service_path(f.environment, f.name) : environment_path(f.name);
  return with_organization(path + "/maintenance", f.organization);
}

std::string describe_channel(const std::string& channel) {
  if (channel == "fast") return "fast (versions reach it when published)";
  if (channel == "regular") return "regular (14 days after publication)";
  if (channel == "slow") return "slow (28 days after publication)";
  return channel;
}

std::string instant_text(const std::optional<plan::Instant>& t) {
  return t ? format_rfc3339(t->time_since_epoch().count()) : "beyond two years";
}

// The policy for a human, with where `now` stands in its window.
std::string render_policy(const json& policy, int64_t now) {
  std::vector<std::pair<std::string, std::string>> fields;
  if (policy.contains("source")) fields.emplace_back("source", policy.value("source", ""));
  fields.emplace_back("channel", describe_channel(policy.value("channel", "")));
  const json& window = policy.contains("window") ? policy["window"] : json();
  if (!window.is_object()) {
    fields.emplace_back("window", "none (changes the vendor starts wait for someone to start them)");
    return render_details(fields);
  }
  fields.emplace_back("time zone", window.value("time_zone", ""));
  for (const json& rule : window.value("weekly", json::array())) {
    std::string days;
    for (const json& d : rule.value("days", json::array())) days += (days.empty() ? "" : ",") + d.get<std::string>();
    fields.emplace_back("weekly", days + " " + rule.value("start", "") + " for " +
                                      std::to_string(rule.value("duration_minutes", 0)) + " min");
  }
  for (const json& b : window.value("blackouts", json::array()))
    fields.emplace_back("blackout", b.value("from", "") + " to " + b.value("to", ""));
  try {
    plan::WindowState s = plan::window_at(plan::maintenance_window_from_json(window), plan::Instant{std::chrono::seconds{now}});
    if (s.inside) {
      fields.emplace_back("now", "inside a window, open until " + instant_text(s.closes_at));
    } else if (s.opens_at) {
      fields.emplace_back("now", "outside; the next window opens " + instant_text(s.opens_at) + " and closes " +
                                     instant_text(s.closes_at));
    } else {
      fields.emplace_back("now", "outside; no window opens within two years");
    }
  } catch (const Error&) {
    // A zone this machine's tz database lacks: the server's answer stands as it is.
  }
  return render_details(fields);
}

void add_target_flags(CLI::App* sub, Flags& f, bool service) {
  sub->add_option("NAME", f.name, service ? "Service name" : "Environment name")->required();
  if (service) sub->add_option("--env", f.environment, "The service's environment")->required();
  add_organization_option(sub, f.organization);
  add_output_option(sub, f.format);
}

void add_get(CLI::App* parent, CommandSet& commands, bool service) {
  auto f = std::make_shared<Flags>();
  auto* sub = parent->add_subcommand(
      "get", service ? "The maintenance policy that applies to the service, and whose it is"
                     : "The environment's maintenance policy (its services' default)");
  add_target_flags(sub, *f, service);
  on_run(sub, commands, [f, service, &io = commands.io] {
    json policy = connect(io)->get(policy_path(*f, service));
    int64_t now = io.clock.unix_seconds();
    print_result(io, f->format, policy, [now](const json& p) { return render_policy(p, now); });
    return 0;
  });
}

void add_set(CLI::App* parent, CommandSet& commands, bool service) {
  auto f = std::make_shared<Flags>();
  auto* sub = parent->add_subcommand(
      "set", service ? "Give the service its own maintenance policy: what applies now, with the changes given"
                     : "Change the environment's maintenance policy (fields not given stay as they are)");
  add_target_flags(sub, *f, service);
  auto* window = sub->add_option("--window", f->window_file,
                                 "JSON file: {time_zone, weekly:[{days,start,duration_minutes}], blackouts}");
  auto* none = sub->add_flag("--no-window", f->no_window, "No window: changes wait for someone to start them");
  window->excludes(none);
  auto* channel = sub->add_option("--channel", f->channel, "Release channel: fast, regular or slow")
                      ->check(CLI::IsMember({"fast", "regular", "slow"}));
  on_run(
      sub, commands,
      [f, service, &io = commands.io] {
        json wanted_window;
        if (!f->window_file.empty()) wanted_window = files::read_user_json(f->window_file, "window file", "window");
        auto api = connect(io);
        // A PUT replaces the whole policy: start from what applies now.
        json policy = api->get(policy_path(*f, service));
        policy.erase("source");
        if (!f->window_file.empty()) policy["window"] = wanted_window;
        if (f->no_window) policy["window"] = nullptr;
        if (!f->channel.empty()) policy["channel"] = f->channel;
        json now_in_force = api->put(policy_path(*f, service), policy);
        int64_t now = io.clock.unix_seconds();
        print_result(io, f->format, now_in_force, [now](const json& p) { return render_policy(p, now); });
        return 0;
      },
      [window, none, channel] {
        if (!window->count() && !none->count() && !channel->count())
          throw CLI::ValidationError("set", "give --window FILE, --no-window or --channel");
      });
}

void add_clear(CLI::App* parent, CommandSet& commands) {
  auto f = std::make_shared<Flags>();
  auto* sub = parent->add_subcommand("clear", "The service takes its environment's maintenance policy again");
  add_target_flags(sub, *f, true);
  on_run(sub, commands, [f, &io = commands.io] {
    json policy = connect(io)->del(policy_path(*f, true));
    int64_t now = io.clock.unix_seconds();
    print_result(io, f->format, policy, [now](const json& p) { return render_policy(p, now); });
    return 0;
  });
}

}  // namespace

void add_maintenance_commands(CLI::App* parent, CommandSet& commands, bool service) {
  auto* maintenance = parent->add_subcommand(
      "maintenance", "When changes the vendor starts may disturb " + std::string(service ? "the service" : "its services") +
                         ", and how soon new versions reach " + (service ? "it" : "them") + " (docs/maintenance.md)");
  maintenance->require_subcommand(1);
  add_get(maintenance, commands, service);
  add_set(maintenance, commands, service);
  if (service) add_clear(maintenance, commands);
}

}  // namespace byoc::cli
