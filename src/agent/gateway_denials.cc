#include "agent/gateway_denials.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent/support_gateway_check.h"
#include "model/validate.h"

namespace byoc::agent {
namespace fs = std::filesystem;

GatewayDenials::GatewayDenials(fs::path file, const Clock& clock, size_t max_pending)
    : ledger_(std::move(file), clock, kMaxKeys, kFoldRoom, max_pending, "gateway refusal") {}

void GatewayDenials::record(const std::string& service, const std::string& reason, const std::string& serial) {
  const auto& codes = model::gateway_denial_codes();
  if (!model::is_dns1123_label(service) || std::find(codes.begin(), codes.end(), reason) == codes.end()) {
    spdlog::error("a gateway denial with a malformed service or reason was not counted");
    return;
  }
  // Folded: counted without its serial.
  auto counted = ledger_.count(Key{service, reason, normalized_serial(serial)}, Key{service, reason, ""});
  if (counted && !std::get<2>(*counted).empty()) unreported_named_.store(true, std::memory_order_relaxed);
}

std::vector<model::GatewayDenial> GatewayDenials::pending(size_t max) {
  unreported_named_.store(false, std::memory_order_relaxed);  // before: a refusal counted meanwhile stays news
  return ledger_.pending(max, [](const Key& key, const Tally& t) {
    const auto& [service, reason, serial] = key;
    return model::GatewayDenial{0, service, reason, serial, t.count, t.first, t.last};
  });
}

void GatewayDenials::acknowledge(int64_t acked_seq) { ledger_.acknowledge(acked_seq); }

size_t GatewayDenials::pending_count() const { return ledger_.pending_count(); }

int64_t GatewayDenials::next_seq() const { return ledger_.next_seq(); }

}  // namespace byoc::agent
