// The upgrader's loop, its journal and call discipline, the control plane and
// the addons. Node groups and draining are in upgrader_nodes.cc.
#include "plan/upgrade/upgrader.h"

#include <algorithm>

#include "base/error.h"
#include "plan/upgrade/fleet.h"

namespace byoc::plan::upgrade {

Upgrader::Upgrader(UpgradeTarget target, EksControl& eks, KubeControl& kube, Timeline& timeline,
                   UpgradeJournal& journal, std::vector<UpgradeEvent>& events, UpgradeOptions options)
    : target_(std::move(target)),
      eks_(eks),
      kube_(kube),
      timeline_(timeline),
      journal_(journal),
      events_(events),
      options_(options) {
  // One calendar per service for the whole run, asked at every step.
  Instant from = std::min(timeline_.now(), target_.deadline) - std::chrono::days{1};
  Instant to = target_.deadline + std::chrono::days{2};
  for (const auto& [service, window] : target_.windows) calendars_.emplace(service, WindowCalendar(window, from, to));
}

UpgradeOutcome Upgrader::run() {
  if (auto loaded = journal_.load()) {
    record_ = upgrade_record_from_json(*loaded);
    if (record_.run_id != target_.run_id) {
      throw Error::Conflict("journal_mismatch", "the journal belongs to run '" + record_.run_id + "'", "journal");
    }
    if (!record_.done) event("resume");
  } else {
    record_.run_id = target_.run_id;
  }
  Instant hard_stop = target_.deadline + std::chrono::days{1};
  UpgradeOutcome outcome;
  for (;;) {
    Instant now = timeline_.now();
    busy_ = false;
    wake_ = now < target_.deadline ? target_.deadline : hard_stop;
    bool done = false;
    try {
      done = reconcile();
    } catch (const Deferred&) {
      busy_ = true;
    }
    if (done) {
      outcome.done = true;
      break;
    }
    now = timeline_.now();
    if (now >= hard_stop) {
      event("gave_up");
      break;
    }
    Instant next = busy_ ? now + options_.poll : std::min(wake_, hard_stop);
    timeline_.wait_until(std::max(next, now + std::chrono::seconds{1}));
  }
  outcome.quarantined = record_.quarantined;
  for (const auto& [name, g] : record_.groups) {
    if (g.gave_up) outcome.failed_node_groups.push_back(name);
  }
  return outcome;
}

bool Upgrader::reconcile() {
  if (!record_.started) capture_old_groups();
  if (!control_plane_done()) return false;
  bool groups_done = true;
  std::vector<std::pair<std::string, Pod>> pods;
  std::vector<std::string> ready;
  for (auto& [old_name, g] : record_.groups) {
    if (g.gave_up) {
      groups_done = failed_replacement_gone(g) && groups_done;
      continue;
    }
    if (replacement_ready(old_name, g)) {
      ready.push_back(old_name);
      prepare_old_nodes(old_name, pods);
    } else {
      groups_done = false;
    }
  }
  drain(pods);
  for (const std::string& old_name : ready) groups_done = old_group_done(old_name, record_.groups.at(old_name)) && groups_done;
  if (!groups_done) return false;
  if (!addons_done()) return false;
  if (!record_.done) {
    record_.done = true;
    record_.intent.clear();
    save();
    event("done");
  }
  return true;
}

void Upgrader::capture_old_groups() {
  for (const std::string& name : observe([&] { return eks_.list_nodegroups(); })) {
    auto g = observe([&] { return eks_.describe_nodegroup(name); });
    if (!g || minor_of(g->version, "version") >= minor_of(target_.target_version, "target_version")) continue;
    GroupRecord rec;
    std::string dashed = target_.target_version;
    std::replace(dashed.begin(), dashed.end(), '.', '-');
    rec.replacement = name + "-" + dashed;
    rec.instance_types = g->instanceTypes;
    rec.desired_size = g->desiredSize;
    rec.labels = g->labels;
    record_.groups[name] = std::move(rec);
  }
  record_.started = true;
  save();
}

bool Upgrader::control_plane_done() {
  Cluster c = observe([&] { return eks_.describe_cluster(); });
  if (c.status != "ACTIVE") {
    busy_ = true;
    return false;
  }
  int minor = minor_of(c.version, "cluster.version");
  if (minor >= minor_of(target_.target_version, "target_version")) return true;
  std::string next = version_of_minor(minor + 1);
  // Recorded before it is sent; a resumed run sends the same token, which EKS reads as the same update.
  if (record_.control_plane_sent.insert(next).second) save();
  mutate("update control plane to " + next, [&] { return eks_.update_cluster_version(next, token("cp-" + next)); });
  event("update_control_plane");
  busy_ = true;
  return false;
}

bool Upgrader::addons_done() {
  bool done = true;
  for (const auto& [name, version] : target_.addon_versions) {
    auto addon = observe([&] { return eks_.describe_addon(name); });
    if (!addon) continue;  // not installed: nothing to update
    if (addon->status != "ACTIVE") {
      done = false;
      busy_ = true;
      continue;
    }
    if (addon->addonVersion == version) continue;
    done = false;
    busy_ = true;
    if (record_.addons_sent.insert(name).second) save();
    mutate("update addon " + name, [&] {
      eks_.update_addon(name, version, token("addon-" + name + "-" + version));
      return 0;
    });
    event("update_addon");
    events_.back().addon = name;
  }
  return done;
}

Instant Upgrader::next_fitting_window(const std::string& service, std::chrono::seconds drain) const {
  Instant now = timeline_.now();
  for (const WindowInterval& w : calendars_.at(service).intervals()) {
    if (!w.opens || *w.opens <= now) continue;
    if (!w.closes || *w.closes - *w.opens >= drain) return *w.opens;
  }
  return target_.deadline;
}

void Upgrader::save() {
  crash_point();
  journal_.save(to_json(record_));
}

void Upgrader::crash_point() {
  ++crash_points_;
  if (crash_points_ == options_.crash_at) throw InjectedCrash();
}

void Upgrader::event(std::string action, std::string group, std::string node, std::string pod, std::string service) {
  events_.push_back({timeline_.now(), std::move(action), std::move(group), std::move(node), std::move(pod),
                     std::move(service)});
}

std::string Upgrader::token(const std::string& what) const { return target_.run_id + ":" + what; }

}  // namespace byoc::plan::upgrade
