#include "agent/kube_requests.h"

#include <regex>

#include "agent/support_gateway_check.h"

namespace byoc::agent {
namespace fs = std::filesystem;

namespace {

// Printable ASCII without spaces, at most `max` bytes (model::is_kube_request_text).
std::string fitted(std::string text, size_t max) {
  if (text.size() > max) text.resize(max);
  for (char& c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return text;
}

// What the plane accepts of each field (model/protocol.cc parse_kube_request).
model::KubeRequest fitted(model::KubeRequest r) {
  static const std::regex grant_id("acc-[0-9a-f]{16}");
  static const std::regex decision("[a-z_]{1,64}");
  model::KubeRequest out;
  out.request_id = std::regex_match(r.request_id, grant_id) ? r.request_id : "";
  out.serial = normalized_serial(r.serial);
  out.verb = fitted(std::move(r.verb), 32);
  out.api_group = fitted(std::move(r.api_group), model::kMaxKubeRequestText);
  out.resource = fitted(std::move(r.resource), model::kMaxKubeRequestText);
  out.subresource = fitted(std::move(r.subresource), model::kMaxKubeRequestText);
  out.namespace_name = fitted(std::move(r.namespace_name), model::kMaxKubeRequestText);
  out.name = fitted(std::move(r.name), model::kMaxKubeRequestText);
  out.path = fitted(std::move(r.path), model::kMaxKubeRequestPath);
  out.decision = std::regex_match(r.decision, decision) ? r.decision : "unknown";
  out.status = r.status >= 0 && r.status <= 599 ? r.status : 0;
  return out;
}

}  // namespace

KubeRequests::KubeRequests(fs::path file, const Clock& clock, size_t max_pending)
    : ledger_(std::move(file), clock, kMaxKeys, kFoldRoom, max_pending, "Kubernetes request") {}

void KubeRequests::record(model::KubeRequest request) {
  model::KubeRequest key = fitted(std::move(request));
  model::KubeRequest folded = key;
  folded.name.clear();
  folded.path.clear();
  ledger_.count(key, folded);
}

std::vector<model::KubeRequest> KubeRequests::pending(size_t max) {
  return ledger_.pending(max, [](const model::KubeRequest& key, const Tally& t) {
    model::KubeRequest entry = key;
    entry.count = t.count;
    entry.first = t.first;
    entry.last = t.last;
    return entry;
  });
}

void KubeRequests::acknowledge(int64_t acked_seq) { ledger_.acknowledge(acked_seq); }

size_t KubeRequests::pending_count() const { return ledger_.pending_count(); }

int64_t KubeRequests::next_seq() const { return ledger_.next_seq(); }

}  // namespace byoc::agent
