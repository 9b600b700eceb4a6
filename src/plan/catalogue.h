// Catalogue: the EC2 instance types byoc may place ClickHouse replicas on (c7gd / m7gd / r7gd), with what the
// planner needs of each — vCPU, memory, local NVMe, the ENI limits that bound pods per node, and the on-demand
// price. The built-in catalogue comes from data/instance-catalog.csv, embedded into the binary at build time; a
// catalogue can also be parsed from CSV text (no file access here: the caller reads the file).
//
// Immutable after construction: safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::plan {

struct InstanceType {
  std::string name;     // "m7gd.large"
  int vcpu = 0;
  int64_t memory_mib = 0;
  int64_t local_nvme_gb = 0;  // decimal GB, as EC2 publishes it
  int enis = 0;
  int ipv4_per_eni = 0;
  double price_per_hour = 0;  // USD, on demand, us-east-1

  // "m7gd" and "large".
  std::string family() const;
  std::string size() const;
};

class Catalogue {
 public:
  // Parses the CSV format of data/instance-catalog.csv (header row with at least the columns type, vcpu,
  // memory_gib, local_nvme_gb, enis, ipv4_per_eni, price_usd_per_hour_us_east_1, in any order). Throws
  // byoc::Error (invalid, code "bad_catalogue") naming the line and column at fault.
  static Catalogue parse_csv(std::string_view text);

  // The catalogue embedded at build time. Parsed once.
  static const Catalogue& builtin();

  explicit Catalogue(std::vector<InstanceType> types);

  const std::vector<InstanceType>& types() const { return types_; }
  // nullptr when the catalogue has no such type.
  const InstanceType* find(std::string_view name) const;

 private:
  std::vector<InstanceType> types_;
};

}  // namespace byoc::plan
