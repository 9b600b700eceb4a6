#include "agent/support_access.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "access/grant_check.h"
#include "agent/environment_ca.h"
#include "agent/policy.h"
#include "agent/state_layout.h"
#include "agent/support_gateway_check.h"
#include "base/files.h"

namespace byoc::agent {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr auto kBackdate = 60s;
// Decisions of grants gone from the desired state are kept this long past
// their certificate's end, then forgotten.
constexpr int64_t kForgetAfter = 24 * 3600;

crypto::KeyedCertificate load_or_make_support_ca(const fs::path& dir, const std::string& environment_id,
                                                 const Clock& clock) {
  crypto::CertificateSpec spec;
  spec.common_name = "byoc support CA";
  spec.organization = environment_id;
  return load_or_make_ca(dir, layout::kSupportCa, layout::kSupportCaKey, spec, clock);
}

// At most 64 bytes (X.509's bound on a common name), cut on a UTF-8 boundary.
std::string common_name(const std::string& subject) {
  if (subject.size() <= 64) return subject;
  size_t end = 64;
  while (end > 0 && (static_cast<unsigned char>(subject[end]) & 0xC0) == 0x80) --end;
  return subject.substr(0, end);
}

}  // namespace

SupportAccess::SupportAccess(fs::path state_dir, std::string environment_id, const Clock& clock,
                             std::vector<std::string> served_scopes)
    : state_dir_(std::move(state_dir)),
      environment_id_(std::move(environment_id)),
      clock_(clock),
      served_scopes_(std::move(served_scopes)),
      ca_(load_or_make_support_ca(state_dir_, environment_id_, clock)),
      ca_not_after_(crypto::inspect(ca_.cert_pem).not_after_unix) {
  auto saved = files::read_if_exists(state_dir_ / layout::kSupportGrants);
  if (!saved) return;
  json j = json::parse(*saved, nullptr, false);
  if (!j.is_object()) {
    spdlog::error("ignoring an unreadable {}", layout::kSupportGrants);
    return;
  }
  // A decision kept before scopes were (an older agent's) is clickhouse-system's: the only one then.
  for (const auto& [id, d] : j.items())
    decisions_[id] = {d.value("state", ""),       d.value("serial", ""),   d.value("certificate_pem", ""),
                      d.value("reason", ""),      d.value("not_after", int64_t{0}), d.value("desired", true),
                      d.value("scope", std::string(model::kScopeClickhouseSystem))};
}

SupportAccess::Decision SupportAccess::issue(const model::DesiredGrant& grant) const {
  int64_t now = clock_.unix_seconds();
  crypto::CertificateSpec spec;
  spec.common_name = common_name(grant.requester);
  spec.organization = environment_id_;
  spec.organizational_unit = grant.request_id;
  spec.client_auth = true;
  spec.not_before = std::chrono::system_clock::from_time_t(std::max(now, grant.not_before)) - kBackdate;
  int64_t end = std::min(grant.not_after, ca_not_after_);
  spec.not_after = std::chrono::system_clock::from_time_t(end);
  std::string cert = crypto::sign_csr(ca_, grant.csr_pem, spec);
  return {"issued", crypto::inspect(cert).serial_hex, cert, "", end, true, grant.scope};
}

void SupportAccess::decide(const std::vector<model::DesiredGrant>& grants, const std::string& refusal) {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.unix_seconds();
  bool changed = false;
  for (auto& [id, d] : decisions_) {
    bool desired = std::any_of(grants.begin(), grants.end(), [&](const auto& g) { return g.request_id == id; });
    changed = changed || desired != d.desired;
    d.desired = desired;
  }
  std::erase_if(decisions_, [&](const auto& entry) {
    const Decision& d = entry.second;
    bool forget = !d.desired && now > d.not_after + kForgetAfter;
    changed = changed || forget;
    return forget;
  });
  bool undecided = std::any_of(grants.begin(), grants.end(), [&](const auto& g) { return !decisions_.count(g.request_id); });
  if (undecided) {
    std::optional<CustomerPolicy> policy;
    try {
      policy = load_customer_policy(state_dir_);
    } catch (const std::exception& e) {
      spdlog::error("support grants wait: {}", e.what());
    }
    if (policy) {
      access::GrantRules rules;
      rules.support_access = policy->vendor_support_access;
      rules.require_customer_approval = policy->require_customer_approval;
      for (const auto& key : policy->customer_approver_keys) rules.customer_keys.push_back(access::note::parse_verifier(key));
      rules.max_grant_seconds = policy->max_support_grant_seconds;
      rules.served_scopes = served_scopes_;
      rules.allowed_scopes = policy->support_access_scopes;
      for (const auto& g : grants) {
        if (decisions_.count(g.request_id)) continue;
        std::string reason = refusal.empty() ? access::grant_refusal(g, rules, environment_id_, now) : refusal;
        Decision d{"refused", "", "", reason, g.not_after, true, g.scope};
        if (reason.empty()) {
          try {
            d = issue(g);
          } catch (const std::exception& e) {
            d.reason = "bad_csr";
            spdlog::warn("grant {}: cannot issue ({})", g.request_id, e.what());
          }
        }
        if (d.state == "issued")
          spdlog::info("grant {}: issued certificate {} ({}) to {} until {}", g.request_id, d.serial, g.scope,
                       g.requester, format_rfc3339(d.not_after));
        else
          spdlog::warn("grant {}: refused ({})", g.request_id, d.reason);
        decisions_[g.request_id] = d;
        changed = true;
      }
    }
  }
  if (changed) save_locked();
}

void SupportAccess::save_locked() const {
  json j = json::object();
  for (const auto& [id, d] : decisions_)
    j[id] = {{"state", d.state},   {"serial", d.serial},       {"certificate_pem", d.certificate_pem},
             {"reason", d.reason}, {"not_after", d.not_after}, {"desired", d.desired},
             {"scope", d.scope}};
  files::write_atomic(state_dir_ / layout::kSupportGrants, j.dump(), 0600);
}

std::vector<model::ReportedGrant> SupportAccess::outcomes() const {
  std::lock_guard lock(mutex_);
  std::vector<model::ReportedGrant> out;
  for (const auto& [id, d] : decisions_)
    if (d.desired && out.size() < model::kMaxGrants)
      out.push_back({id, d.state, d.serial, d.certificate_pem, d.reason});
  return out;
}

std::vector<std::string> SupportAccess::revoked_serials() const {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.unix_seconds();
  std::vector<std::string> out;
  for (const auto& [id, d] : decisions_)
    if (d.state == "issued" && !d.desired && d.not_after > now) out.push_back(d.serial);
  return out;
}

std::optional<ActiveGrant> SupportAccess::active_grant(const std::string& serial) const {
  std::lock_guard lock(mutex_);
  int64_t now = clock_.unix_seconds();
  for (const auto& [id, d] : decisions_)
    if (d.state == "issued" && d.desired && normalized_serial(d.serial) == serial && now < d.not_after)
      return ActiveGrant{id, d.scope, d.not_after};
  return std::nullopt;
}

std::string SupportAccess::make_crl(TimePoint this_update, TimePoint next_update) const {
  return crypto::make_crl(ca_, revoked_serials(), this_update, next_update);
}

model::ReportedAccessPolicy SupportAccess::reported_policy() const {
  try {
    CustomerPolicy p = load_customer_policy(state_dir_);
    std::vector<std::string> scopes;
    for (const auto& scope : model::access_scopes())
      if (std::count(served_scopes_.begin(), served_scopes_.end(), scope) &&
          std::count(p.support_access_scopes.begin(), p.support_access_scopes.end(), scope))
        scopes.push_back(scope);
    return {p.vendor_support_access, p.require_customer_approval, p.max_support_grant_seconds, scopes};
  } catch (const std::exception&) {
    return {false, true, 0, std::vector<std::string>{}};
  }
}

}  // namespace byoc::agent
