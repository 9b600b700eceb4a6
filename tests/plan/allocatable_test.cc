#include "plan/allocatable.h"

#include <gtest/gtest.h>

namespace byoc::plan {
namespace {

struct Expected {
  const char* type;
  int max_pods;
  int64_t cpu_millis;
  int64_t nominal_mib;
  int64_t karpenter_mib;
};

// Worked out by hand from the EKS formulas in data/SOURCES.md (not by the code under test).
const Expected kExpected[] = {
    {"c7gd.medium", 8, 940, 1605, 1392},        {"c7gd.large", 29, 1930, 3422, 3055},
    {"c7gd.xlarge", 58, 3920, 7199, 6525},      {"c7gd.2xlarge", 58, 7910, 15391, 14103},
    {"c7gd.4xlarge", 234, 15890, 29839, 27322}, {"c7gd.8xlarge", 234, 31850, 62607, 57632},
    {"c7gd.12xlarge", 234, 47810, 95375, 87943}, {"c7gd.16xlarge", 737, 63770, 122610, 112720},
    {"m7gd.medium", 8, 940, 3653, 3286},        {"m7gd.large", 29, 1930, 7518, 6844},
    {"m7gd.xlarge", 58, 3920, 15391, 14103},    {"m7gd.2xlarge", 58, 7910, 31775, 29258},
    {"m7gd.4xlarge", 234, 15890, 62607, 57632}, {"m7gd.8xlarge", 234, 31850, 128143, 118253},
    {"m7gd.12xlarge", 234, 47810, 193679, 178874}, {"m7gd.16xlarge", 737, 63770, 253682, 233962},
    {"r7gd.medium", 8, 940, 7749, 7075},        {"r7gd.large", 29, 1930, 15710, 14422},
    {"r7gd.xlarge", 58, 3920, 31775, 29258},    {"r7gd.2xlarge", 58, 7910, 64543, 59568},
    {"r7gd.4xlarge", 234, 15890, 128143, 118253}, {"r7gd.8xlarge", 234, 31850, 259215, 239495},
    {"r7gd.12xlarge", 234, 47810, 390287, 360736}, {"r7gd.16xlarge", 737, 63770, 515826, 476445},
};

TEST(Allocatable, EveryTypeInBothModes) {
  const Catalogue& c = Catalogue::builtin();
  ASSERT_EQ(std::size(kExpected), c.types().size());
  AllocatablePolicy nominal;
  AllocatablePolicy karpenter;
  karpenter.mode = AllocatableMode::kKarpenter;
  for (const auto& e : kExpected) {
    SCOPED_TRACE(e.type);
    const InstanceType* t = c.find(e.type);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(max_pods(*t), e.max_pods);
    EXPECT_EQ(allocatable(*t, nominal), (Resources{e.cpu_millis, e.nominal_mib}));
    EXPECT_EQ(allocatable(*t, karpenter), (Resources{e.cpu_millis, e.karpenter_mib}));
  }
}

TEST(Allocatable, TheIssuesWorkedExample) {
  const InstanceType* t = Catalogue::builtin().find("m7gd.large");
  ASSERT_NE(t, nullptr);
  AllocatablePolicy p;
  EXPECT_EQ(allocatable(*t, p), (Resources{1930, 7518}));
  p.mode = AllocatableMode::kKarpenter;
  EXPECT_EQ(allocatable(*t, p), (Resources{1930, 6844}));
}

TEST(Allocatable, ReservedCpuSteps) {
  EXPECT_EQ(kube_reserved_cpu_millis(1), 60);
  EXPECT_EQ(kube_reserved_cpu_millis(2), 70);
  EXPECT_EQ(kube_reserved_cpu_millis(3), 75);
  EXPECT_EQ(kube_reserved_cpu_millis(4), 80);
  EXPECT_EQ(kube_reserved_cpu_millis(5), 83);  // 82.5 rounded up
  EXPECT_EQ(kube_reserved_cpu_millis(64), 230);
  EXPECT_EQ(kube_reserved_memory_mib(29), 574);
}

TEST(Allocatable, DaemonSetsAreSubtracted) {
  const InstanceType* t = Catalogue::builtin().find("m7gd.xlarge");
  AllocatablePolicy p;
  p.daemonsets = Resources{250, 512};
  EXPECT_EQ(allocatable(*t, p), (Resources{3920 - 250, 15391 - 512}));
  p.mode = AllocatableMode::kKarpenter;
  EXPECT_EQ(allocatable(*t, p), (Resources{3920 - 250, 14103 - 512}));
}

TEST(Allocatable, MeasuredCapacityOverridesBothModesForItsAmiOnly) {
  const InstanceType* t = Catalogue::builtin().find("m7gd.large");
  AllocatablePolicy p;
  p.ami = "al2023-1.33";
  p.measured.push_back(MeasuredCapacity{"m7gd.large", "al2023-1.33", Resources{2000, 7800}});
  p.measured.push_back(MeasuredCapacity{"m7gd.large", "bottlerocket", Resources{2000, 7000}});
  // 7800 - 574 kube-reserved - 100 eviction.
  EXPECT_EQ(allocatable(*t, p), (Resources{1930, 7126}));
  p.mode = AllocatableMode::kKarpenter;
  EXPECT_EQ(allocatable(*t, p), (Resources{1930, 7126}));
  p.ami = "other";
  EXPECT_EQ(allocatable(*t, p), (Resources{1930, 6844}));
}

TEST(Allocatable, ModeNames) {
  EXPECT_EQ(parse_allocatable_mode("nominal"), AllocatableMode::kNominal);
  EXPECT_EQ(parse_allocatable_mode("karpenter"), AllocatableMode::kKarpenter);
  EXPECT_FALSE(parse_allocatable_mode("Karpenter"));
  EXPECT_EQ(to_string(AllocatableMode::kKarpenter), "karpenter");
}

}  // namespace
}  // namespace byoc::plan
