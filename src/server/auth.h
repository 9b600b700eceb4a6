// Authentication by bearer token and authorization by role.
//
// Roles: `admin` (everything but troubleshooting access itself: sets the
// access policy, revokes), `operator` (vendor on-call: reads every
// organisation's environments, services and operations, asks for access;
// no writes, no secrets), `approver` (reads as operator; reviews and revokes
// access requests), `customer` (creates, reads and deletes environments and
// services of its own organisation, reviews and revokes its access requests;
// no API tokens, no organisations).
//
// Failures: no or bad token → 401 (always the same answer); a role that may
// not act → 403; a customer addressing another organisation → 404, so the
// existence of other organisations' objects is never revealed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/http.h"
#include "server/principal.h"
#include "server/route_spec.h"
#include "store/generation_cache.h"
#include "store/store.h"

namespace byoc::server {

// Roles held by the vendor's staff: their tokens must name a subject.
bool is_vendor_role(const std::string& role);

inline const std::vector<std::string>& roles() {
  static const std::vector<std::string> all = {"admin", "operator", "approver", "customer"};
  return all;
}

// Checks that `who` may make a call of `access` and returns the organisation
// the request addresses (`?organization=O` for admins and vendor staff,
// default "default"; always their own for customers; "" for kAdmin and
// kAnyToken, which address no organisation). Throws 403 or 404.
std::string authorize(store::Transaction& tx, const Principal& who, const HttpRequest& request, Access access);

// authorize() without the store: the role checks and the organisation
// addressed, which for admins and vendor staff may not exist (authorize()
// also checks that). For answers already known to be current for it.
std::string addressed_organization(const Principal& who, const HttpRequest& request, Access access);
// Whether authorize() must also find the addressed organisation in the store.
bool must_exist(const Principal& who, Access access);

// Bearer tokens recently verified against the store, so that a request whose
// token was verified at the store's current generation needn't read the store
// again. Any committed write — deleting the token, too — moves the generation
// on, so the next use is checked against the store again. Keeps what the
// store keeps (the secret's SHA-256, compared in constant time), never the
// secret. Thread-safe.
class VerifiedTokens {
 public:
  // The principal if the request's token was verified at `generation` and
  // its secret matches; nullopt otherwise (authenticate against the store).
  std::optional<Principal> find(const HttpRequest& request, uint64_t generation) const;
  // Throws 401 unless `Authorization: Bearer <token>` names a live token
  // whose secret matches (compared in constant time); remembers a success as
  // of `generation`, which the caller read before the transaction `tx` began.
  Principal authenticate(store::Transaction& tx, const HttpRequest& request, uint64_t generation);

 private:
  struct Verified {
    std::string secret_sha256_hex;
    Principal who;
  };
  store::GenerationCache<Verified> verified_{4096};
};

// Whether `who` may see objects of `organization` at all (for lookups by id).
bool can_see(const Principal& who, const std::string& organization);

}  // namespace byoc::server
