// "Recorded before it acts": every mutating call the upgrader makes finds its
// intent (naming what it is about to change) already in the journal, and a
// CreateNodegroup's token is the attempt the journal holds.
#include <gtest/gtest.h>

#include "plan/upgrade/simulated_run.h"
#include "upgrade_checks.h"

namespace byoc::plan::upgrade::testing {
namespace {

using std::chrono::minutes;

// Passes every call to the simulator; before a mutating one, reads the journal.
class IntentChecker final : public EksControl, public KubeControl {
 public:
  IntentChecker(Simulator& world, const MemoryJournal& journal) : world_(world), journal_(journal) {}
  int checked = 0;

  Cluster describe_cluster() override { return world_.describe_cluster(); }
  std::string update_cluster_version(const std::string& version, const std::string& token) override {
    expect_intent(version);
    return world_.update_cluster_version(version, token);
  }
  std::vector<std::string> list_nodegroups() override { return world_.list_nodegroups(); }
  std::optional<Nodegroup> describe_nodegroup(const std::string& name) override {
    return world_.describe_nodegroup(name);
  }
  void create_nodegroup(const CreateNodegroupRequest& request) override {
    expect_intent(request.nodegroupName);
    int attempts = 0;
    nlohmann::json record = journal_.load().value_or(nlohmann::json::object());
    for (const nlohmann::json& g : record.at("groups")) {
      if (g.at("replacement") == request.nodegroupName) attempts = g.at("attempts");
    }
    EXPECT_TRUE(request.clientRequestToken.ends_with("-" + std::to_string(attempts))) << request.clientRequestToken;
    world_.create_nodegroup(request);
  }
  void delete_nodegroup(const std::string& name) override {
    expect_intent(name);
    world_.delete_nodegroup(name);
  }
  std::optional<Addon> describe_addon(const std::string& name) override { return world_.describe_addon(name); }
  void update_addon(const std::string& name, const std::string& version, const std::string& token) override {
    expect_intent(name);
    world_.update_addon(name, version, token);
  }
  std::vector<Node> list_nodes(const std::string& key, const std::string& value) override {
    return world_.list_nodes(key, value);
  }
  void taint_and_label_node(const std::string& node, const Taint& taint, const std::string& label,
                            const std::string& value) override {
    expect_intent("taint node " + node);
    world_.taint_and_label_node(node, taint, label, value);
  }
  void cordon_node(const std::string& node) override {
    expect_intent("cordon node " + node);
    world_.cordon_node(node);
  }
  std::vector<Pod> list_pods_on_node(const std::string& node) override { return world_.list_pods_on_node(node); }
  EvictionResult evict_pod(const std::string& pod) override {
    expect_intent("evict pod " + pod);
    return world_.evict_pod(pod);
  }
  std::vector<Pdb> list_pdbs() override { return world_.list_pdbs(); }

 private:
  void expect_intent(const std::string& what) {
    ++checked;
    auto record = journal_.load();
    ASSERT_TRUE(record.has_value()) << what << ": nothing recorded before the first call";
    std::string intent = record->at("intent");
    EXPECT_NE(intent.find(what), std::string::npos) << "about to act on " << what << ", recorded: " << intent;
  }

  Simulator& world_;
  const MemoryJournal& journal_;
};

TEST(UpgradeJournal, EveryMutatingCallIsRecordedBeforeItIsSent) {
  std::mt19937_64 rng(42);
  Fleet fleet = random_fleet(rng, {.max_groups = 2, .max_nodes_per_group = 3, .faults = false});
  fleet.faults.create_failures[fleet.node_groups[0].name] = 1;  // a failed group deleted and created again
  fleet.node_groups[0].version = fleet.cluster_version;
  ManualClock clock(fleet.start.time_since_epoch().count());
  Simulator world(fleet, 1, clock);
  SimTimeline timeline(clock);
  MemoryJournal journal;
  IntentChecker checker(world, journal);
  std::vector<UpgradeEvent> events;
  Upgrader upgrader(upgrade_target(fleet), checker, checker, timeline, journal, events);
  UpgradeOutcome outcome = upgrader.run();
  EXPECT_TRUE(outcome.done);
  EXPECT_EQ(checker.checked, world.mutating_calls());
  EXPECT_GT(checker.checked, 10);
}

}  // namespace
}  // namespace byoc::plan::upgrade::testing
