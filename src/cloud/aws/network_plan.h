// The address plan of a byoc data-plane VPC: which IPv4 block each zone's
// private and public subnet gets inside the VPC CIDR the customer chose. Pure
// (no I/O, no AWS call); the infra template renders its subnets from it.
//
// The rule, chosen so a plan never depends on anything but (CIDR, zone count)
// and an added zone never moves an existing subnet:
//   z = the zone count rounded up to a power of two;
//   private subnet i = VPC / (2z), the i-th block of the VPC's first half
//     (nodes and pods live here: the EKS VPC CNI gives every pod a VPC
//     address, so the private side gets almost all the space);
//   public subnet i = private / 8, the i-th block of the VPC's second half
//     (only NAT gateways and internet-facing load balancers live here).
// What is left of the second half is never allocated: room for later
// subnets (e.g. a zone added) without renumbering.
//
//   VPC   zones  private (each)          public (each)
//   /16   2      /18  16384 addresses    /21  2048
//   /16   3      /19   8192              /22  1024
//   /20   2      /22   1024              /25   128
//   /20   3      /23    512              /26    64
//   /22   2      /24    256              /27    32
//   /22   3      /25    128              /28    16
//
// Accepted: an IPv4 network address (no host bits set) inside RFC 1918
// (10/8, 172.16/12, 192.168/16) or the shared space 100.64.0.0/10, prefix /16
// to /24, and 2 to 6 distinct zone names. A public subnet smaller than /28
// (AWS's minimum subnet) is refused with the smallest CIDR that fits. Every
// refusal is byoc::Error kInvalid with field "cidr" or "zones".
// Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::aws {

struct Ipv4Cidr {
  uint32_t address = 0;  // host order; the network address
  int prefix = 0;        // 0..32

  uint64_t size() const { return uint64_t{1} << (32 - prefix); }
  uint32_t last() const { return static_cast<uint32_t>(address + size() - 1); }
  Ipv4Cidr network() const;  // host bits cleared
  bool contains(const Ipv4Cidr& other) const;
  bool overlaps(const Ipv4Cidr& other) const;
  std::string str() const;  // "10.0.0.0/16"
  bool operator==(const Ipv4Cidr&) const = default;
};

// "a.b.c.d/p" with four decimal octets and a prefix 0..32; nullopt when
// malformed. Host bits may be set (the caller decides whether that is wrong);
// `address` keeps them.
std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view text);

struct ZoneSubnets {
  std::string zone;  // e.g. "us-east-1a"
  Ipv4Cidr private_subnet;
  Ipv4Cidr public_subnet;
};

struct NetworkPlan {
  Ipv4Cidr vpc;
  std::vector<ZoneSubnets> zones;  // in the order the zones were given
};

inline constexpr int kMinZones = 2;
inline constexpr int kMaxZones = 6;
inline constexpr int kLargestVpcPrefix = 16;   // AWS's largest VPC
inline constexpr int kSmallestVpcPrefix = 24;  // byoc's smallest
inline constexpr int kSmallestSubnetPrefix = 28;  // AWS's smallest subnet

NetworkPlan plan_network(std::string_view vpc_cidr, const std::vector<std::string>& zones);

// The largest VPC prefix (the smallest VPC) that plan_network accepts for
// `zone_count` zones.
int smallest_vpc_prefix_for(int zone_count);

// Checks a zone name's shape ("us-east-1a", "us-west-2-lax-1a");
// throws kInvalid (field "zones") when it is not one.
void check_zone_name(std::string_view zone);

// Checks a zone list: kMinZones to kMaxZones well-shaped, distinct names;
// throws kInvalid (field "zones").
void check_zones(const std::vector<std::string>& zones);

// An IPv4 network ("10.0.0.0/16": no host bits set); throws kInvalid
// (code invalid_cidr unless given, the given field) naming `example`.
Ipv4Cidr parse_network_cidr(std::string_view text, const std::string& field, const std::string& code = "invalid_cidr",
                            const std::string& example = "10.0.0.0/16");

}  // namespace byoc::aws
