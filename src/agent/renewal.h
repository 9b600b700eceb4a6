// Renewal of the agent's client certificate (DESIGN §3: the agent renews it
// before expiry). Once less than a third of its lifetime is left, the agent
// makes a new key, sends a CSR to POST /v1/agent/renew with its current
// certificate, and switches to the answer. The server keeps accepting the
// old certificate until the new one is first used, and the files are
// switched so that a crash at any point leaves the agent with a pair that
// works:
//   1. agent.key.next (0600)  the new key, written before the request;
//   2. agent.pem.next         the new certificate, written after the answer;
//   3. rename agent.key.next -> agent.key, then agent.pem.next -> agent.pem.
// finish_interrupted_renewal() completes step 3 if a certificate was saved,
// or drops a key that never got one.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "agent/join.h"
#include "base/clock.h"

namespace byoc::agent {

// True once less than a third of the certificate's lifetime is left (or it
// has expired). Pure.
bool renewal_due(const std::string& certificate_pem, TimePoint now);

// Asks the server for a new certificate and saves it as above; returns the
// new identity. Throws byoc::Error (kUnavailable when the server can't be
// reached; the server's refusal otherwise); the current identity keeps
// working after a failure.
AgentIdentity renew_certificate(const std::filesystem::path& state_dir, const std::string& server_url,
                                const AgentIdentity& current, const std::atomic<bool>* cancel);

// Completes or discards a renewal a crash interrupted. Called before the
// identity is loaded.
void finish_interrupted_renewal(const std::filesystem::path& state_dir);

}  // namespace byoc::agent
