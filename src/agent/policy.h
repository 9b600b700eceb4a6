// CustomerPolicy: limits the customer sets on what this agent will run,
// whatever the management plane asks. It lives in <state dir>/policy.json,
// a file the customer writes; nothing the management plane sends can change
// it (the agent never writes it). The agent re-reads it before every apply,
// so an edit takes effect with the next desired state.
//
// The file is a JSON object; every field is optional and defaults as below.
// Unknown fields, wrong types or out-of-range values make the whole file
// invalid: an agent refuses to start with it, and a running agent refuses
// every change until it is fixed (the last good configuration keeps serving).
//
// Defaults, chosen so that an agent with no policy file is safe and useful:
// vendor support access allowed (it is still readonly, logged, certificate-
// only: invariants, not policy) to ClickHouse's system tables only — the
// Kubernetes API (kubernetes-readonly) only when the customer lists it, so
// that no upgrade widens what an existing file allows — for grants of up to 8 h, the vendor's
// record of reviews trusted (no customer approval required); public endpoints not allowed; the widest
// allowlist entry is /8 for IPv4 (every RFC 1918 block and 127/8 fit) and /32
// for IPv6 (a whole ISP allocation, wider than any one site's /48); the vendor
// may not reset the `default` user's password.
//
// Value type; the free functions are thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/state_layout.h"
#include "model/access.h"

namespace byoc::agent {

struct CustomerPolicy {
  // Support access at all (vendor engineers' certificates for system tables).
  bool vendor_support_access = true;
  // An allowlist entry outside RFC 1918, loopback, IPv6 ULA and link-local
  // ranges is public; 0.0.0.0/0 and ::/0 are public.
  bool public_endpoint_allowed = false;
  int widest_allowlist_prefix_v4 = 8;   // 0..32
  int widest_allowlist_prefix_v6 = 32;  // 0..128
  bool vendor_may_reset_default_password = false;
  // A grant also needs the customer's own approval: a C2SP signed note by one
  // of customer_approver_keys naming exactly the grant (docs/access.md).
  bool require_customer_approval = false;
  std::vector<std::string> customer_approver_keys;  // C2SP verifier keys, NAME+HASH+BASE64 (at most 16)
  int64_t max_support_grant_seconds = 8 * 3600;     // 60 s to 7 days
  // What support access may reach: model::access_scopes() entries, each
  // once, at least one (to allow none, turn vendor_support_access off).
  std::vector<std::string> support_access_scopes = {model::kScopeClickhouseSystem};
  bool operator==(const CustomerPolicy&) const = default;
};

inline constexpr const char* kPolicyFile = layout::kPolicy;

// Parses the file's text. Throws byoc::Error (kInvalid, code "invalid_policy")
// whose message is one readable line naming `source` and the field at fault.
CustomerPolicy parse_customer_policy(std::string_view text, const std::string& source = kPolicyFile);

// Reads <state_dir>/policy.json, or returns the defaults when it is absent.
// Also refuses (same error) a file that anyone but its owner may write.
CustomerPolicy load_customer_policy(const std::filesystem::path& state_dir);

nlohmann::json to_json(const CustomerPolicy& policy);

}  // namespace byoc::agent
