// The environment's own CA (DESIGN §3): made by the agent inside the
// environment on its first start and kept in its state dir (key 0600). It
// issues the service endpoints' certificates; only its public certificate
// leaves the data plane, in the agent's status.
#pragma once

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "base/crypto.h"

namespace byoc::agent {

// Loads the CA from `state_dir`, or makes and stores one named after the environment.
crypto::KeyedCertificate load_or_make_environment_ca(const std::filesystem::path& state_dir,
                                                     const std::string& environment_name, const Clock& clock);

// Loads a CA kept in `dir` as `cert_file` and `key_file` (0600), or makes
// one from `spec` (valid from an hour ago for ten years) and keeps it there.
crypto::KeyedCertificate load_or_make_ca(const std::filesystem::path& dir, const char* cert_file,
                                         const char* key_file, crypto::CertificateSpec spec, const Clock& clock);

}  // namespace byoc::agent
