// The desired states the Kubernetes renderer's tests render: two services
// ("events" and "orders") of N shards × N replicas on two profiles, the
// support gateway on from 2 × 2 on, and the one service of the golden file.
// Shared by the unit tests and by the program that writes the lists the
// kubernetes-models check validates.
#pragma once

#include <string>

#include "model/protocol.h"
#include "render/kubernetes/kubernetes.h"

namespace byoc::render::kubernetes::testing {

// SHA-256 of kPassword: the `default` user's hash in every case.
inline constexpr const char* kPassword = "correct horse battery staple";
std::string password_hash();

model::DesiredService service(const std::string& name, int shards, int replicas);
// An image as versions.json names one: pinned by digest.
inline constexpr const char* kPinnedImage =
    "registry.example/clickhouse-server@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// "events" and "orders", both n × n, on profiles r7gd.xlarge and m7gd.large;
// at 3 × 3, events runs kPinnedImage, its StatefulSets' partitions 3, 1, 0.
model::DesiredState two_services(int n);
KubernetesOptions two_profiles(int n);

// The golden file's: "orders", 2 × 2, its allowlist, the gateway with a CA and CRL.
model::DesiredState golden_state();
KubernetesOptions golden_options();

}  // namespace byoc::render::kubernetes::testing
