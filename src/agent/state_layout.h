// The files in an agent's state directory. Shared with the `local` cloud
// driver, which creates the directory and starts the agent in it.
#pragma once

namespace byoc::agent::layout {

inline constexpr const char* kLock = "agent.lock";              // held while the agent runs
inline constexpr const char* kPid = "agent.pid";
inline constexpr const char* kLog = "agent.log";
inline constexpr const char* kJoinToken = "join.token";        // 0600, removed after joining
inline constexpr const char* kServerCa = "server-ca.pem";      // pinned from the join token's hash
inline constexpr const char* kServers = "servers.json";        // the plane's URLs, as the server last listed them
inline constexpr const char* kKey = "agent.key";               // 0600
inline constexpr const char* kCertificate = "agent.pem";
inline constexpr const char* kIdentity = "identity.json";      // environment id and name
inline constexpr const char* kEnvironmentCa = "environment-ca.pem";
inline constexpr const char* kEnvironmentCaKey = "environment-ca.key";  // 0600
inline constexpr const char* kDesired = "desired.json";        // last desired state received (0600)
inline constexpr const char* kAccepted = "accepted.json";      // last accepted spec per service (0600)
inline constexpr const char* kUsage = "usage.json";            // usage seq, unacked intervals (0600)
inline constexpr const char* kPolicy = "policy.json";          // the customer's; the agent only reads it
inline constexpr const char* kSupportCa = "support-ca.pem";    // the environment's support CA (public)
inline constexpr const char* kSupportCaKey = "support-ca.key"; // 0600, never leaves the environment
inline constexpr const char* kSupportGrants = "support-grants.json";  // what the agent decided per grant (0600)
inline constexpr const char* kGatewayDenials = "gateway-denials.json";  // refusals not yet acknowledged (0600)
inline constexpr const char* kKubeRequests = "kube-requests.json";  // Kubernetes requests not yet acknowledged (0600)
inline constexpr const char* kAuditKey = "audit-key.txt";      // the plane's audit log verifier key, pinned
inline constexpr const char* kAuditCheckpoints = "audit-checkpoints.json";  // every checkpoint accepted (0600)
inline constexpr const char* kServices = "services";           // the runtime's root

}  // namespace byoc::agent::layout
