#include "plan/catalogue.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::plan {
namespace {

TEST(Catalogue, BuiltinHoldsTheDataFile) {
  const Catalogue& c = Catalogue::builtin();
  ASSERT_EQ(c.types().size(), 24u);
  const InstanceType* t = c.find("m7gd.large");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->vcpu, 2);
  EXPECT_EQ(t->memory_mib, 8192);
  EXPECT_EQ(t->local_nvme_gb, 118);
  EXPECT_EQ(t->enis, 3);
  EXPECT_EQ(t->ipv4_per_eni, 10);
  EXPECT_DOUBLE_EQ(t->price_per_hour, 0.1068);
  EXPECT_EQ(t->family(), "m7gd");
  EXPECT_EQ(t->size(), "large");
  const InstanceType* big = c.find("r7gd.16xlarge");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(big->memory_mib, 512 * 1024);
  EXPECT_DOUBLE_EQ(big->price_per_hour, 4.3546);
  EXPECT_EQ(c.find("m5.large"), nullptr);
}

TEST(Catalogue, ParsesColumnsInAnyOrder) {
  Catalogue c = Catalogue::parse_csv(
      "price_usd_per_hour_us_east_1,type,memory_gib,vcpu,enis,ipv4_per_eni,local_nvme_gb,extra\r\n"
      "0.5,x1.big,16,4,4,15,100,ignored\n\n");
  ASSERT_EQ(c.types().size(), 1u);
  EXPECT_EQ(c.types()[0].name, "x1.big");
  EXPECT_EQ(c.types()[0].vcpu, 4);
  EXPECT_EQ(c.types()[0].memory_mib, 16384);
  EXPECT_DOUBLE_EQ(c.types()[0].price_per_hour, 0.5);
}

void expect_bad(const std::string& csv, const std::string& field, const std::string& words) {
  try {
    Catalogue::parse_csv(csv);
    FAIL() << "parsed: " << csv;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), "bad_catalogue");
    EXPECT_EQ(e.field(), field);
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Catalogue, RejectsBadInputNamingTheLine) {
  const std::string header = "type,vcpu,memory_gib,local_nvme_gb,enis,ipv4_per_eni,price_usd_per_hour_us_east_1\n";
  expect_bad("type,vcpu\n", "line 1", "memory_gib");
  expect_bad(header + "a.b,2,8,10,3,10,0.1\na.c,two,8,10,3,10,0.1\n", "line 3", "vcpu");
  expect_bad(header + "a.b,2,8,10,3,10,0.1\na.b,2,8,10,3,10,0.1\n", "line 3", "duplicate");
  expect_bad(header + "a.b,2,8,10,3,10,-1\n", "line 2", "price");
  expect_bad(header + "a.b,2,8,10,3,10,0\n", "line 2", "positive");
  expect_bad(header + "noDot,2,8,10,3,10,0.1\n", "line 2", "family.size");
  expect_bad(header + "a.b,2,8\n", "line 2", "missing");
  expect_bad(header, "line 1", "no instance types");
  expect_bad("", "line 1", "empty");
}

}  // namespace
}  // namespace byoc::plan
