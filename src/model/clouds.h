// What each cloud offers: its regions, their zones, and the ClickHouse
// versions its environments can run. Validation reads it; nothing else does.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace byoc::model {

struct CloudOffer {
  std::map<std::string, std::vector<std::string>> zones_by_region;
  std::vector<std::string> clickhouse_versions;
  std::string default_region;  // empty: region is required
};

// The built-in offers: `local` and `external` (region `local`, zones a…f,
// ClickHouse 18.16.1 from Debian) and `aws`.
const std::map<std::string, CloudOffer>& cloud_offers();

}  // namespace byoc::model
