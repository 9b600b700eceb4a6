#include "agent/environment_ca.h"

#include "agent/state_layout.h"
#include "base/files.h"

namespace byoc::agent {
using namespace std::chrono_literals;

crypto::KeyedCertificate load_or_make_ca(const std::filesystem::path& dir, const char* cert_file,
                                         const char* key_file, crypto::CertificateSpec spec, const Clock& clock) {
  auto cert = files::read_if_exists(dir / cert_file);
  auto key = files::read_if_exists(dir / key_file);
  if (cert && key) return {*cert, *key};
  spec.not_before = clock.system_time() - 1h;
  spec.not_after = clock.system_time() + 24h * 3650;
  auto ca = crypto::make_ca(spec);
  // Key first: a certificate on disk always has its key beside it.
  files::write_atomic(dir / key_file, ca.key_pem, 0600);
  files::write_atomic(dir / cert_file, ca.cert_pem, 0644);
  return ca;
}

crypto::KeyedCertificate load_or_make_environment_ca(const std::filesystem::path& dir,
                                                     const std::string& env_name, const Clock& clock) {
  crypto::CertificateSpec spec;
  spec.common_name = "byoc environment " + env_name + " CA";
  return load_or_make_ca(dir, layout::kEnvironmentCa, layout::kEnvironmentCaKey, spec, clock);
}

}  // namespace byoc::agent
