#include "cloud/aws/network_plan.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <set>

#include "base/error.h"

namespace byoc::aws {
namespace {

uint32_t mask(int prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

Ipv4Cidr network(uint32_t address, int prefix) { return {address & mask(prefix), prefix}; }

// Where a customer's VPC may sit: the private ranges, and the shared
// address space (RFC 6598) that AWS accepts for VPCs too.
const std::array<Ipv4Cidr, 4>& private_ranges() {
  static const std::array<Ipv4Cidr, 4> ranges = {
      Ipv4Cidr{0x0A000000u, 8}, Ipv4Cidr{0xAC100000u, 12}, Ipv4Cidr{0xC0A80000u, 16}, Ipv4Cidr{0x64400000u, 10}};
  return ranges;
}

bool parse_number(std::string_view s, unsigned max, unsigned* out) {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;  // no octal-looking octets
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out <= max;
}

// log2 of the zone count rounded up to a power of two.
int zone_bits(int zone_count) { return std::bit_width(static_cast<unsigned>(zone_count - 1)); }

}  // namespace

Ipv4Cidr Ipv4Cidr::network() const { return aws::network(address, prefix); }

bool Ipv4Cidr::contains(const Ipv4Cidr& other) const {
  return other.prefix >= prefix && (other.address & mask(prefix)) == address;
}

bool Ipv4Cidr::overlaps(const Ipv4Cidr& other) const { return contains(other) || other.contains(*this); }

std::string Ipv4Cidr::str() const {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xFF) + "." +
         std::to_string((address >> 8) & 0xFF) + "." + std::to_string(address & 0xFF) + "/" + std::to_string(prefix);
}

std::optional<Ipv4Cidr> parse_ipv4_cidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  unsigned prefix = 0;
  if (!parse_number(text.substr(slash + 1), 32, &prefix)) return std::nullopt;
  std::string_view rest = text.substr(0, slash);
  uint32_t address = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = i < 3 ? rest.find('.') : rest.size();
    if (dot == std::string_view::npos) return std::nullopt;
    unsigned octet = 0;
    if (!parse_number(rest.substr(0, dot), 255, &octet)) return std::nullopt;
    address = address << 8 | octet;
    rest = i < 3 ? rest.substr(dot + 1) : std::string_view();
  }
  return Ipv4Cidr{address, static_cast<int>(prefix)};
}

int smallest_vpc_prefix_for(int zone_count) {
  return std::min(kSmallestVpcPrefix, kSmallestSubnetPrefix - 4 - zone_bits(zone_count));
}

void check_zone_name(std::string_view zone) {
  // region ("us-east-1", "us-west-2-lax-1") then the zone letter.
  bool shape = zone.size() >= 4 && zone.size() <= 32 && zone.back() >= 'a' && zone.back() <= 'z' &&
               zone[zone.size() - 2] >= '0' && zone[zone.size() - 2] <= '9' && zone.find('-') != std::string_view::npos &&
               std::all_of(zone.begin(), zone.end(),
                           [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
  if (!shape)
    throw Error::Invalid("invalid_zone", "`" + std::string(zone) + "` is not an availability zone name such as us-east-1a",
                         "zones");
}

void check_zones(const std::vector<std::string>& zones) {
  const int count = static_cast<int>(zones.size());
  if (count < kMinZones || count > kMaxZones)
    throw Error::Invalid("invalid_zones",
                         "a data plane spans " + std::to_string(kMinZones) + " to " + std::to_string(kMaxZones) +
                             " availability zones, not " + std::to_string(count),
                         "zones");
  std::set<std::string> seen;
  for (const auto& zone : zones) {
    check_zone_name(zone);
    if (!seen.insert(zone).second)
      throw Error::Invalid("invalid_zones", "zone " + zone + " is listed twice", "zones");
  }
}

Ipv4Cidr parse_network_cidr(std::string_view text, const std::string& field, const std::string& code,
                            const std::string& example) {
  const std::string given(text);
  auto parsed = parse_ipv4_cidr(text);
  if (!parsed) throw Error::Invalid(code, "`" + given + "` is not an IPv4 CIDR such as " + example, field);
  Ipv4Cidr net = network(parsed->address, parsed->prefix);
  if (net.address != parsed->address)
    throw Error::Invalid(code, given + " has host bits set; did you mean " + net.str() + "?", field);
  return net;
}

NetworkPlan plan_network(std::string_view vpc_cidr, const std::vector<std::string>& zones) {
  check_zones(zones);
  const int count = static_cast<int>(zones.size());
  const std::string given(vpc_cidr);
  Ipv4Cidr vpc = parse_network_cidr(vpc_cidr, "cidr");
  const auto& ranges = private_ranges();
  if (std::none_of(ranges.begin(), ranges.end(), [&](const Ipv4Cidr& r) { return r.contains(vpc); }))
    throw Error::Invalid("invalid_cidr",
                         given + " is not a private range: use one inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 "
                                 "or 100.64.0.0/10",
                         "cidr");
  if (vpc.prefix < kLargestVpcPrefix)
    throw Error::Invalid("invalid_cidr",
                         given + " is larger than AWS allows for a VPC (/16 at most); use e.g. " +
                             network(vpc.address, kLargestVpcPrefix).str(),
                         "cidr");
  const int bits = zone_bits(count);
  const int smallest = smallest_vpc_prefix_for(count);
  if (vpc.prefix > smallest) {
    // (For 2 to 6 zones the /28 floor always binds before byoc's /24 one.)
    const std::string why = "each public subnet would be /" + std::to_string(vpc.prefix + 4 + bits) +
                            ", smaller than AWS's minimum /28";
    throw Error::Invalid("cidr_too_small",
                         given + " is too small for " + std::to_string(count) + " zones: " + why +
                             "; the smallest that fits is " + network(vpc.address, smallest).str(),
                         "cidr");
  }

  const int private_prefix = vpc.prefix + 1 + bits;
  const int public_prefix = private_prefix + 3;
  const uint32_t private_size = uint32_t{1} << (32 - private_prefix);
  const uint32_t public_size = uint32_t{1} << (32 - public_prefix);
  const uint32_t second_half = vpc.address + static_cast<uint32_t>(vpc.size() / 2);
  NetworkPlan plan{vpc, {}};
  for (int i = 0; i < count; ++i) {
    plan.zones.push_back({zones[i],
                          {vpc.address + private_size * static_cast<uint32_t>(i), private_prefix},
                          {second_half + public_size * static_cast<uint32_t>(i), public_prefix}});
  }
  return plan;
}

}  // namespace byoc::aws
