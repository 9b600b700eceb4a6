// The CIDR planner: its documented sizes, and for every VPC size and zone
// count either a plan whose subnets sit inside the VPC without overlapping,
// or a refusal that names a CIDR which does work.
#include <gtest/gtest.h>

#include "base/error.h"
#include "cloud/aws/network_plan.h"

namespace byoc::aws {
namespace {

std::vector<std::string> zones_of(int n) {
  std::vector<std::string> zones;
  for (int i = 0; i < n; ++i) zones.push_back(std::string("us-east-1") + static_cast<char>('a' + i));
  return zones;
}

Error refusal(const std::string& cidr, const std::vector<std::string>& zones) {
  try {
    plan_network(cidr, zones);
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << cidr << " with " << zones.size() << " zones was accepted";
  return Error::Internal("accepted");
}

TEST(NetworkPlan, DocumentedSizes) {
  struct Row {
    std::string cidr;
    int zones;
    int private_prefix;
    int public_prefix;
  };
  for (const Row& row : std::vector<Row>{{"10.0.0.0/16", 2, 18, 21},
                                          {"10.0.0.0/16", 3, 19, 22},
                                          {"10.0.0.0/20", 2, 22, 25},
                                          {"10.0.0.0/20", 3, 23, 26},
                                          {"10.0.0.0/22", 2, 24, 27},
                                          {"10.0.0.0/22", 3, 25, 28}}) {
    NetworkPlan plan = plan_network(row.cidr, zones_of(row.zones));
    for (const auto& z : plan.zones) {
      EXPECT_EQ(z.private_subnet.prefix, row.private_prefix) << row.cidr << " " << row.zones;
      EXPECT_EQ(z.public_subnet.prefix, row.public_prefix) << row.cidr << " " << row.zones;
    }
  }
}

TEST(NetworkPlan, ThreeZonesInA16) {
  NetworkPlan plan = plan_network("10.0.0.0/16", {"us-east-1a", "us-east-1b", "us-east-1c"});
  ASSERT_EQ(plan.zones.size(), 3u);
  EXPECT_EQ(plan.zones[0].zone, "us-east-1a");
  EXPECT_EQ(plan.zones[0].private_subnet.str(), "10.0.0.0/19");
  EXPECT_EQ(plan.zones[1].private_subnet.str(), "10.0.32.0/19");
  EXPECT_EQ(plan.zones[2].private_subnet.str(), "10.0.64.0/19");
  EXPECT_EQ(plan.zones[0].public_subnet.str(), "10.0.128.0/22");
  EXPECT_EQ(plan.zones[1].public_subnet.str(), "10.0.132.0/22");
  EXPECT_EQ(plan.zones[2].public_subnet.str(), "10.0.136.0/22");
}

// Every prefix byoc might see, every zone count, several bases.
TEST(NetworkPlan, EveryPlanFitsOrIsRefusedWithAWorkingSuggestion) {
  int plans = 0, refusals = 0;
  for (std::string base : {"10.0.0.0", "10.128.0.0", "172.16.0.0", "172.31.0.0", "192.168.0.0", "100.64.0.0",
                           "100.127.0.0"}) {
    for (int prefix = 16; prefix <= 28; ++prefix) {
      auto parsed = parse_ipv4_cidr(base + "/" + std::to_string(prefix));
      ASSERT_TRUE(parsed);
      const std::string cidr = parsed->str();
      for (int n = kMinZones; n <= kMaxZones; ++n) {
        auto zones = zones_of(n);
        const int z = n <= 2 ? 2 : n <= 4 ? 4 : 8;
        if (prefix > smallest_vpc_prefix_for(n)) {
          Error e = refusal(cidr, zones);
          EXPECT_EQ(e.field(), "cidr");
          EXPECT_EQ(e.code(), "cidr_too_small");
          std::string message = e.what();
          size_t at = message.find("the smallest that fits is ");
          ASSERT_NE(at, std::string::npos) << message;
          std::string suggested = message.substr(at + 26);
          EXPECT_NO_THROW(plan_network(suggested, zones)) << message;
          auto s = parse_ipv4_cidr(suggested);
          ASSERT_TRUE(s);
          EXPECT_EQ(s->prefix, smallest_vpc_prefix_for(n));
          EXPECT_TRUE(s->contains(*parse_ipv4_cidr(cidr))) << message;
          ++refusals;
          continue;
        }
        NetworkPlan plan = plan_network(cidr, zones);
        ++plans;
        ASSERT_EQ(plan.zones.size(), static_cast<size_t>(n));
        const Ipv4Cidr first_half{plan.vpc.address, plan.vpc.prefix + 1};
        const Ipv4Cidr second_half{static_cast<uint32_t>(plan.vpc.address + plan.vpc.size() / 2), plan.vpc.prefix + 1};
        std::vector<Ipv4Cidr> all;
        for (int i = 0; i < n; ++i) {
          const auto& zs = plan.zones[i];
          EXPECT_EQ(zs.zone, zones[i]);
          EXPECT_EQ(zs.private_subnet.size() * 2 * z, plan.vpc.size()) << cidr << " " << n;
          EXPECT_EQ(zs.public_subnet.size() * 8, zs.private_subnet.size());
          EXPECT_LE(zs.public_subnet.prefix, kSmallestSubnetPrefix);
          EXPECT_TRUE(first_half.contains(zs.private_subnet)) << zs.private_subnet.str() << " in " << cidr;
          EXPECT_TRUE(second_half.contains(zs.public_subnet)) << zs.public_subnet.str() << " in " << cidr;
          for (const auto& s : {zs.private_subnet, zs.public_subnet}) {
            EXPECT_EQ(s.address % s.size(), 0u) << s.str() << " is not aligned";
            EXPECT_TRUE(plan.vpc.contains(s));
            for (const auto& other : all) EXPECT_FALSE(s.overlaps(other)) << s.str() << " overlaps " << other.str();
            all.push_back(s);
          }
        }
      }
    }
  }
  EXPECT_GT(plans, 100);
  EXPECT_GT(refusals, 50);
}

TEST(NetworkPlan, ZonesAddedLaterKeepTheirSubnets) {
  // Within one power of two, a zone appended never moves the others.
  NetworkPlan three = plan_network("10.0.0.0/16", zones_of(3));
  NetworkPlan four = plan_network("10.0.0.0/16", zones_of(4));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(three.zones[i].private_subnet, four.zones[i].private_subnet);
    EXPECT_EQ(three.zones[i].public_subnet, four.zones[i].public_subnet);
  }
}

TEST(NetworkPlan, RefusesTooSmallWithTheSmallestThatFits) {
  Error e = refusal("10.1.2.0/24", zones_of(3));
  EXPECT_EQ(e.field(), "cidr");
  EXPECT_EQ(std::string(e.what()),
            "10.1.2.0/24 is too small for 3 zones: each public subnet would be /30, smaller than AWS's minimum /28; "
            "the smallest that fits is 10.1.0.0/22");
  EXPECT_EQ(std::string(refusal("10.0.0.0/23", zones_of(5)).what()).substr(0, 34), "10.0.0.0/23 is too small for 5 zon");
}

TEST(NetworkPlan, RefusesHostBitsSuggestingTheNetwork) {
  Error e = refusal("10.0.0.1/16", zones_of(2));
  EXPECT_EQ(e.field(), "cidr");
  EXPECT_NE(std::string(e.what()).find("did you mean 10.0.0.0/16?"), std::string::npos) << e.what();
}

TEST(NetworkPlan, RefusesPublicLargeAndMalformed) {
  for (std::string cidr : {"8.8.0.0/16", "172.32.0.0/16", "100.128.0.0/16", "192.169.0.0/16"})
    EXPECT_NE(std::string(refusal(cidr, zones_of(2)).what()).find("not a private range"), std::string::npos) << cidr;
  Error big = refusal("10.0.0.0/8", zones_of(3));
  EXPECT_NE(std::string(big.what()).find("use e.g. 10.0.0.0/16"), std::string::npos) << big.what();
  for (std::string cidr : {"", "10.0.0.0", "10.0.0/16", "10.0.0.0/33", "10.0.0.256/24", "10.0.0.0/16 ", "a.b.c.d/16",
                           "10.0.0.0/-1", "10..0.0/16", "0010.0.0.0/16", "010.0.0.0/16"})
    EXPECT_EQ(refusal(cidr, zones_of(2)).field(), "cidr") << cidr;
}

TEST(NetworkPlan, RefusesBadZones) {
  EXPECT_EQ(refusal("10.0.0.0/16", zones_of(1)).field(), "zones");
  EXPECT_EQ(refusal("10.0.0.0/16", zones_of(7)).field(), "zones");
  EXPECT_EQ(refusal("10.0.0.0/16", {"us-east-1a", "us-east-1a"}).field(), "zones");
  EXPECT_EQ(refusal("10.0.0.0/16", {"us-east-1a", "US-EAST-1B"}).field(), "zones");
  EXPECT_EQ(refusal("10.0.0.0/16", {"us-east-1a", "us-east-1"}).field(), "zones");
  EXPECT_NO_THROW(plan_network("10.0.0.0/16", {"us-west-2a", "us-west-2-lax-1a"}));
}

TEST(NetworkPlan, ParsesAndPrints) {
  auto c = parse_ipv4_cidr("192.168.10.0/23");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->str(), "192.168.10.0/23");
  EXPECT_EQ(c->size(), 512u);
  EXPECT_EQ(Ipv4Cidr({c->address, 24}).str(), "192.168.10.0/24");
  EXPECT_TRUE(c->contains(*parse_ipv4_cidr("192.168.11.128/25")));
  EXPECT_FALSE(c->contains(*parse_ipv4_cidr("192.168.12.0/25")));
  EXPECT_TRUE(parse_ipv4_cidr("0.0.0.0/0")->contains(*c));
}

}  // namespace
}  // namespace byoc::aws
