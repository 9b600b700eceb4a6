// The protocol's enumerations and the shapes of its endpoints; its two
// halves are protocol_desired.cc (down) and protocol_report.cc (up).
#include "model/protocol.h"

#include <regex>

namespace byoc::model {

const std::vector<std::string>& replica_states() {
  static const std::vector<std::string> v = {"STARTING", "RUNNING", "RESTARTING", "FAILED", "STOPPED"};
  return v;
}
const std::vector<std::string>& service_states() {
  static const std::vector<std::string> v = {"PROVISIONING", "READY", "FAILED", "DELETING"};
  return v;
}
const std::vector<std::string>& reason_codes() {
  static const std::vector<std::string> v = {"",
                                             "starting",
                                             "replica_failed",
                                             "endpoint_unreachable",
                                             "apply_failed",
                                             "unsupported_topology",
                                             "unsupported_version",
                                             "invariant_violation",
                                             "policy_violation",
                                             "endpoint_failed",
                                             "restarting",
                                             "stopped",
                                             "incomplete",
                                             "rolling",
                                             "rollout_waiting",
                                             "rollout_failed",
                                             "scaling",
                                             "scale_failed",
                                             "unknown"};
  return v;
}

const std::vector<std::string>& rollout_states() {
  static const std::vector<std::string> v = {"rolling", "waiting", "done", "failed"};
  return v;
}

const std::vector<std::string>& rollout_checks() {
  static const std::vector<std::string> v = {"", "start", "ping", "replication_queue", "cluster", "version_unknown"};
  return v;
}

const std::vector<std::string>& grant_refusal_codes() {
  static const std::vector<std::string> all = {
      "support_access_off", "customer_approval_missing", "customer_approval_invalid", "duration_too_long",
      "approvals_missing",  "bad_csr",                   "grant_expired",             "scope_unsupported",
      "audit_inconsistent", "scope_not_allowed"};
  return all;
}

const std::vector<std::string>& gateway_denial_codes() {
  static const std::vector<std::string> all = {
      "no_certificate",        "certificate_expired", "certificate_not_yet_valid", "certificate_revoked",
      "certificate_untrusted", "crl_stale",           "grant_inactive",            "credentials_supplied",
      "scope_mismatch"};
  return all;
}

bool is_kube_request_text(const std::string& text, size_t max) {
  if (text.size() > max) return false;
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

bool is_native_endpoint(const std::string& s) {
  static const std::regex re(R"([a-z0-9.:\[\]-]{1,100}:[0-9]{1,5})");
  return std::regex_match(s, re);
}

bool is_https_endpoint(const std::string& s) {
  return s.rfind("https://", 0) == 0 && is_native_endpoint(s.substr(8));
}

}  // namespace byoc::model
