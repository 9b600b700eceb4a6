#include "plan/profiles.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace byoc::plan {
namespace {

TEST(Profiles, OnePerAllowedTypeFillingTheNode) {
  auto profiles = profiles_for(Catalogue::builtin(), {"r7gd.large", "m7gd.large"}, Resources{100, 200},
                               AllocatableMode::kNominal);
  ASSERT_EQ(profiles.size(), 2u);
  // Catalogue order, not request order.
  EXPECT_EQ(profiles[0].name, "m7gd.large");
  EXPECT_EQ(profiles[1].name, "r7gd.large");
  const Profile& p = profiles[0];
  EXPECT_EQ(p.instance_type, "m7gd.large");
  EXPECT_EQ(p.allocatable, (Resources{1830, 7318}));
  EXPECT_EQ(p.requests, p.allocatable);
  EXPECT_EQ(p.limits, p.requests);
  EXPECT_EQ(p.max_pods, 29);
  EXPECT_DOUBLE_EQ(p.price_per_hour, 0.1068);
  // 118 GB = 109.9 GiB, 90% of it.
  EXPECT_EQ(p.ssd_cache_gib, 98);
  EXPECT_EQ(p.node_group, "byoc-m7gd-large");
  EXPECT_EQ(p.node_labels.at("byoc.io/node-group"), "byoc-m7gd-large");
  EXPECT_EQ(p.node_selector.at("byoc.io/node-group"), "byoc-m7gd-large");
  EXPECT_EQ(p.node_selector.at("node.kubernetes.io/instance-type"), "m7gd.large");
  EXPECT_EQ(find_profile(profiles, "r7gd.large"), &profiles[1]);
  EXPECT_EQ(find_profile(profiles, "c7gd.large"), nullptr);
}

TEST(Profiles, AllTypesWhenNoneAreListedAndKarpenterMode) {
  auto profiles = profiles_for(Catalogue::builtin(), {}, Resources{}, AllocatableMode::kKarpenter);
  ASSERT_EQ(profiles.size(), 24u);
  EXPECT_EQ(find_profile(profiles, "m7gd.large")->requests, (Resources{1930, 6844}));
  EXPECT_EQ(find_profile(profiles, "r7gd.16xlarge")->ssd_cache_gib, 3185);
}

TEST(Profiles, TypesWithoutRoomAreLeftOut) {
  // 1 GiB of DaemonSets leaves nothing on c7gd.medium (1605 MiB) ... but room on the others.
  auto profiles = profiles_for(Catalogue::builtin(), {"c7gd.medium", "c7gd.large"}, Resources{0, 1700},
                               AllocatableMode::kNominal);
  ASSERT_EQ(profiles.size(), 1u);
  EXPECT_EQ(profiles[0].name, "c7gd.large");
  try {
    profiles_for(Catalogue::builtin(), {"c7gd.medium"}, Resources{0, 1700}, AllocatableMode::kNominal);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "daemonsets_too_large");
    EXPECT_EQ(e.field(), "daemonsets");
  }
}

TEST(Profiles, BadInputNamesTheField) {
  try {
    profiles_for(Catalogue::builtin(), {"m7gd.large", "m9.huge"}, Resources{}, AllocatableMode::kNominal);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "unknown_instance_type");
    EXPECT_EQ(e.field(), "instance_types[1]");
    EXPECT_EQ(e.http_status(), 422);
  }
  try {
    profiles_for(Catalogue::builtin(), {}, Resources{-1, 0}, AllocatableMode::kNominal);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.field(), "daemonsets.cpu_millis");
  }
}

TEST(Profiles, TheHostAsOneNodeType) {
  Profile h = host_profile(8, 32768, Resources{500, 1024});
  EXPECT_EQ(h.name, "host");
  EXPECT_EQ(h.requests, (Resources{7500, 31744}));
  EXPECT_EQ(h.allocatable, h.requests);
  EXPECT_EQ(h.price_per_hour, 0);
  EXPECT_TRUE(h.node_selector.empty());
  EXPECT_THROW(host_profile(0, 1024), Error);
  EXPECT_THROW(host_profile(2, 0), Error);
  EXPECT_THROW(host_profile(1, 512, Resources{1000, 0}), Error);
}

TEST(Profiles, Json) {
  auto profiles = profiles_for(Catalogue::builtin(), {"c7gd.xlarge"}, Resources{}, AllocatableMode::kNominal);
  nlohmann::json j = profiles;
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["name"], "c7gd.xlarge");
  EXPECT_EQ(j[0]["requests"]["cpu_millis"], 3920);
  EXPECT_EQ(j[0]["requests"]["memory_mib"], 7199);
  EXPECT_EQ(j[0]["limits"]["memory_mib"], 7199);
  EXPECT_EQ(j[0]["ssd_cache_gib"], 198);
  EXPECT_EQ(j[0]["node_group"], "byoc-c7gd-xlarge");
  EXPECT_EQ(j[0]["node_selector"]["node.kubernetes.io/instance-type"], "c7gd.xlarge");
  EXPECT_EQ(j[0]["max_pods"], 58);
  EXPECT_DOUBLE_EQ(j[0]["price_per_hour"].get<double>(), 0.1814);
}

}  // namespace
}  // namespace byoc::plan
