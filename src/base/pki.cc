#include "base/crypto.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <ctime>
#include <memory>

#include "base/error.h"
#include "base/openssl_util.h"

// Certificates, requests and revocation lists: the small PKI byoc needs.
namespace byoc::crypto {
using namespace detail;
namespace {

std::string certificate_pem(X509* cert) {
  BioPtr bio = write_bio();
  if (PEM_write_bio_X509(bio.get(), cert) != 1) fail_internal("PEM_write_bio_X509");
  return bio_contents(bio.get());
}

void check_acceptable_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) != 1) {
      fail_invalid("weak_key", "EC key without a named curve");
    }
    std::string_view name(group, len);
    if (name != "prime256v1" && name != "secp384r1" && name != "secp521r1") {
      throw Error::Invalid("weak_key", "unsupported EC curve " + std::string(name));
    }
    return;
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) throw Error::Invalid("weak_key", "RSA key shorter than 2048 bits");
    return;
  }
  if (EVP_PKEY_is_a(key, "ED25519")) return;
  throw Error::Invalid("weak_key", "unsupported public key type");
}

// Ed25519 signs the message itself (no separate digest); everything else uses SHA-256.
const EVP_MD* signing_digest(EVP_PKEY* key) { return EVP_PKEY_is_a(key, "ED25519") ? nullptr : EVP_sha256(); }

void add_name_entry(X509_NAME* name, int nid, std::string_view value, const char* what) {
  if (X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1)
    fail_invalid("bad_subject", std::string("invalid ") + what);
}

void add_common_name(X509_NAME* name, std::string_view cn) {
  if (cn.empty()) throw Error::Invalid("bad_common_name", "common name is empty", "common_name");
  // Bounded by the ASN.1 string table (ub-common-name = 64), which OpenSSL enforces here.
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.data()),
                                 static_cast<int>(cn.size()), -1, 0) != 1) {
    fail_invalid("bad_common_name", "invalid common name");
  }
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.starts_with("*.")) name.remove_prefix(2);  // one leading wildcard label
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63) return false;
      if (name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
      continue;
    }
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
    ++label;
  }
  return true;
}

void add_subject_alt_names(X509* cert, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) return;
  GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) fail_internal("sk_GENERAL_NAME_new_null");
  for (const auto& dns : spec.dns_names) {
    if (!valid_dns_name(dns)) throw Error::Invalid("bad_dns_name", "invalid DNS name: " + dns, "dns_names");
    Ia5Ptr value(ASN1_IA5STRING_new());
    if (!value || ASN1_STRING_set(value.get(), dns.data(), static_cast<int>(dns.size())) != 1) {
      fail_internal("ASN1_STRING_set");
    }
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) fail_internal("GENERAL_NAME_new");
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, value.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) fail_internal("sk_GENERAL_NAME_push");
    gn.release();
  }
  for (const auto& ip : spec.ip_addresses) {
    // a2i_IPADDRESS accepts exactly dotted IPv4 or textual IPv6.
    OctetPtr value(a2i_IPADDRESS(ip.c_str()));
    if (!value) fail_invalid("bad_ip_address", "invalid IP address: " + ip);
    GeneralNamePtr gn(GENERAL_NAME_new());
    if (!gn) fail_internal("GENERAL_NAME_new");
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, value.release());
    if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) fail_internal("sk_GENERAL_NAME_push");
    gn.release();
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    fail_internal("adding subjectAltName");
  }
}

void add_conf_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) fail_internal(std::string("building extension ") + OBJ_nid2sn(nid));
  if (X509_add_ext(cert, ext.get(), -1) != 1) fail_internal("X509_add_ext");
}

void set_random_serial(X509* cert) {
  BnPtr bn(BN_new());
  if (!bn) fail_internal("BN_new");
  // 128 random bits, always non-negative as a BIGNUM; zero is not a valid serial.
  do {
    if (BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) fail_internal("BN_rand");
  } while (BN_is_zero(bn.get()));
  if (!BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) fail_internal("BN_to_ASN1_INTEGER");
}

time_t to_time_t(TimePoint t) {
  return static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

// Builds and signs a certificate for `subject_key`. `issuer_cert` null means
// self-signed (the subject name doubles as issuer, `signing_key` is the subject's).
X509Ptr build_certificate(const CertificateSpec& spec, EVP_PKEY* subject_key, X509* issuer_cert,
                          EVP_PKEY* signing_key) {
  if (spec.not_after <= spec.not_before) {
    throw Error::Invalid("bad_validity", "not_after must be later than not_before", "not_after");
  }
  X509Ptr cert(X509_new());
  if (!cert) fail_internal("X509_new");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) fail_internal("X509_set_version");
  set_random_serial(cert.get());
  if (!ASN1_TIME_set(X509_getm_notBefore(cert.get()), to_time_t(spec.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert.get()), to_time_t(spec.not_after))) {
    fail_invalid("bad_validity", "validity time out of range");
  }

  NamePtr subject(X509_NAME_new());
  if (!subject) fail_internal("X509_NAME_new");
  if (!spec.organization.empty()) add_name_entry(subject.get(), NID_organizationName, spec.organization, "organization");
  if (!spec.organizational_unit.empty())
    add_name_entry(subject.get(), NID_organizationalUnitName, spec.organizational_unit, "organizational unit");
  add_common_name(subject.get(), spec.common_name);
  if (X509_set_subject_name(cert.get(), subject.get()) != 1) fail_internal("X509_set_subject_name");
  X509_NAME* issuer_name = issuer_cert ? X509_get_subject_name(issuer_cert) : subject.get();
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1) fail_internal("X509_set_issuer_name");
  if (X509_set_pubkey(cert.get(), subject_key) != 1) fail_internal("X509_set_pubkey");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert ? issuer_cert : cert.get(), cert.get(), nullptr, nullptr, 0);
  // Lets OpenSSL derive the authority key id of a self-signed certificate.
  if (!issuer_cert && X509V3_set_issuer_pkey(&ctx, signing_key) != 1) fail_internal("X509V3_set_issuer_pkey");

  if (spec.is_ca) {
    add_conf_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_conf_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    add_conf_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE");
    // RSA key exchange (TLS 1.2 without ECDHE) needs keyEncipherment; EC keys only sign.
    add_conf_extension(cert.get(), &ctx, NID_key_usage,
                       EVP_PKEY_is_a(subject_key, "RSA") ? "critical,digitalSignature,keyEncipherment"
                                                         : "critical,digitalSignature");
  }
  if (spec.server_auth || spec.client_auth) {
    const char* eku = spec.server_auth && spec.client_auth ? "serverAuth,clientAuth"
                      : spec.server_auth                   ? "serverAuth"
                                                           : "clientAuth";
    add_conf_extension(cert.get(), &ctx, NID_ext_key_usage, eku);
  }
  // The subject key id must exist before the authority key id refers to it.
  // OpenSSL 3 omits the AKI of a self-signed certificate unless "always"; an
  // issuer without a key id (made elsewhere) is named by issuer and serial instead.
  add_conf_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  add_conf_extension(cert.get(), &ctx, NID_authority_key_identifier,
                     issuer_cert ? "keyid,issuer" : "keyid:always");
  add_subject_alt_names(cert.get(), spec);

  if (X509_sign(cert.get(), signing_key, signing_digest(signing_key)) <= 0) fail_internal("X509_sign");
  return cert;
}

// The issuer's certificate and key, checked to belong together and to be a CA.
struct LoadedIssuer {
  X509Ptr cert;
  PkeyPtr key;
};

LoadedIssuer load_issuer(const KeyedCertificate& issuer) {
  if (issuer.key_pem.empty()) throw Error::Invalid("issuer_without_key", "issuer has no private key");
  LoadedIssuer loaded{load_certificate(issuer.cert_pem), load_private_key(issuer.key_pem)};
  if (X509_check_private_key(loaded.cert.get(), loaded.key.get()) != 1) {
    fail_invalid("issuer_key_mismatch", "issuer key does not match its certificate");
  }
  if (!(X509_get_extension_flags(loaded.cert.get()) & EXFLAG_CA)) {
    throw Error::Invalid("issuer_not_ca", "issuer certificate is not a CA");
  }
  return loaded;
}

std::string name_entry(X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) fail_invalid("bad_certificate", "undecodable name entry");
  OsslBytes owned(utf8);
  return std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
}

int64_t unix_time(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) fail_invalid("bad_certificate", "undecodable validity time");
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

std::string generate_key_pem() {
  PkeyPtr key = new_p256_key();
  return private_key_pem(key.get());
}

bool certificate_matches_key(std::string_view cert_pem, std::string_view private_key_pem_text) {
  X509Ptr cert = load_certificate(cert_pem);
  PkeyPtr key = load_private_key(private_key_pem_text);
  bool matches = X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();  // a mismatch leaves its reason queued
  return matches;
}

KeyedCertificate make_ca(const CertificateSpec& spec) {
  CertificateSpec ca_spec = spec;
  ca_spec.is_ca = true;
  PkeyPtr key = new_p256_key();
  X509Ptr cert = build_certificate(ca_spec, key.get(), nullptr, key.get());
  return {certificate_pem(cert.get()), private_key_pem(key.get())};
}

KeyedCertificate issue(const KeyedCertificate& issuer, const CertificateSpec& spec) {
  LoadedIssuer loaded = load_issuer(issuer);
  PkeyPtr key = new_p256_key();
  X509Ptr cert = build_certificate(spec, key.get(), loaded.cert.get(), loaded.key.get());
  return {certificate_pem(cert.get()), private_key_pem(key.get())};
}

std::string make_csr(std::string_view key_pem, std::string_view common_name) {
  PkeyPtr key = load_private_key(key_pem);
  ReqPtr req(X509_REQ_new());
  if (!req) fail_internal("X509_REQ_new");
  if (X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1) fail_internal("X509_REQ_set_version");
  add_common_name(X509_REQ_get_subject_name(req.get()), common_name);
  if (X509_REQ_set_pubkey(req.get(), key.get()) != 1) fail_internal("X509_REQ_set_pubkey");
  if (X509_REQ_sign(req.get(), key.get(), signing_digest(key.get())) <= 0) fail_internal("X509_REQ_sign");
  BioPtr bio = write_bio();
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) fail_internal("PEM_write_bio_X509_REQ");
  return bio_contents(bio.get());
}

namespace {

// A certificate request whose self-signature verifies and whose key is one we accept.
ReqPtr load_verified_csr(std::string_view csr_pem) {
  ReqPtr req;
  {
    BioPtr bio = read_bio(csr_pem);
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, no_passphrase, nullptr));
  }
  if (!req) fail_invalid("bad_csr", "cannot parse certificate request PEM");
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req.get());  // owned by req
  if (!public_key) fail_invalid("bad_csr", "certificate request has no usable public key");
  // Proof of possession: only the holder of the private key can have signed it.
  if (X509_REQ_verify(req.get(), public_key) != 1) {
    fail_invalid("bad_csr_signature", "certificate request signature does not verify");
  }
  check_acceptable_key(public_key);
  return req;
}

}  // namespace

std::string csr_public_key_sha256_hex(std::string_view csr_pem) {
  ReqPtr req = load_verified_csr(csr_pem);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(X509_REQ_get0_pubkey(req.get()), &der);
  if (len <= 0) fail_internal("i2d_PUBKEY");
  OsslBytes owned(der);
  return sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
}

std::string normalized_csr_pem(std::string_view csr_pem) {
  ReqPtr req = load_verified_csr(csr_pem);
  BioPtr bio = write_bio();
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) fail_internal("PEM_write_bio_X509_REQ");
  return bio_contents(bio.get());
}

std::string sign_csr(const KeyedCertificate& issuer, std::string_view csr_pem, const CertificateSpec& spec) {
  ReqPtr req = load_verified_csr(csr_pem);
  EVP_PKEY* public_key = X509_REQ_get0_pubkey(req.get());
  LoadedIssuer loaded = load_issuer(issuer);
  X509Ptr cert = build_certificate(spec, public_key, loaded.cert.get(), loaded.key.get());
  return certificate_pem(cert.get());
}

CertificateInfo inspect(std::string_view cert_pem) {
  X509Ptr cert = load_certificate(cert_pem);
  CertificateInfo info;
  info.common_name = name_entry(X509_get_subject_name(cert.get()), NID_commonName);
  info.issuer_common_name = name_entry(X509_get_issuer_name(cert.get()), NID_commonName);
  info.organization = name_entry(X509_get_subject_name(cert.get()), NID_organizationName);
  info.organizational_unit = name_entry(X509_get_subject_name(cert.get()), NID_organizationalUnitName);
  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (!serial) fail_invalid("bad_certificate", "undecodable serial number");
  OsslString serial_hex(BN_bn2hex(serial.get()));
  if (!serial_hex) fail_internal("BN_bn2hex");
  info.serial_hex = serial_hex.get();
  for (char& c : info.serial_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  info.not_before_unix = unix_time(X509_get0_notBefore(cert.get()));
  info.not_after_unix = unix_time(X509_get0_notAfter(cert.get()));
  info.is_ca = (X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0;
  return info;
}

std::string certificate_sha256_hex(std::string_view cert_pem) {
  X509Ptr cert = load_certificate(cert_pem);
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len < 0) fail_internal("i2d_X509");
  OsslBytes owned(der);
  return sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
}

bool verify_issued_by(std::string_view cert_pem, std::string_view ca_pem, TimePoint at) {
  X509Ptr cert = load_certificate(cert_pem);
  X509Ptr ca = load_certificate(ca_pem);
  StorePtr store(X509_STORE_new());
  if (!store) fail_internal("X509_STORE_new");
  // The CA is the only trust anchor: no default paths are ever loaded.
  if (X509_STORE_add_cert(store.get(), ca.get()) != 1) fail_internal("X509_STORE_add_cert");
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx) fail_internal("X509_STORE_CTX_new");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    fail_internal("X509_STORE_CTX_init");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  // set_time also sets X509_V_FLAG_USE_CHECK_TIME; set it explicitly all the same.
  // No X509_V_FLAG_PARTIAL_CHAIN: with it any certificate, a leaf included,
  // would "verify" itself by being its own anchor.
  X509_VERIFY_PARAM_set_time(param, to_time_t(at));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_USE_CHECK_TIME);
  int ok = X509_verify_cert(ctx.get());
  ERR_clear_error();  // a failed verification is an answer, not an error to carry forward
  return ok == 1;
}

bool signed_by(std::string_view cert_pem, std::string_view ca_pem) {
  try {
    X509Ptr cert = load_certificate(cert_pem);
    X509Ptr ca = load_certificate(ca_pem);
    bool ok = X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca.get())) == 0 &&
              X509_verify(cert.get(), X509_get0_pubkey(ca.get())) == 1;
    ERR_clear_error();
    return ok;
  } catch (const Error&) {
    ERR_clear_error();
    return false;
  }
}

std::vector<std::string> split_pem_certificates(std::string_view bundle) {
  std::vector<std::string> out;
  BioPtr bio = read_bio(bundle);
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // end of input
        break;
      }
      fail_invalid("bad_pem", "malformed PEM bundle");
    }
    OsslString owned_name(name);
    OsslString owned_header(header);
    OsslBytes owned_data(data);
    if (std::strcmp(name, PEM_STRING_X509) != 0 && std::strcmp(name, PEM_STRING_X509_OLD) != 0) continue;
    const unsigned char* p = data;
    X509Ptr cert(d2i_X509(nullptr, &p, len));
    if (!cert || p != data + len) fail_invalid("bad_certificate", "malformed certificate in PEM bundle");
    out.push_back(certificate_pem(cert.get()));
  }
  return out;
}

std::string certificate_public_key_sha256_hex(std::string_view cert_pem) {
  X509Ptr cert = load_certificate(cert_pem);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(X509_get0_pubkey(cert.get()), &der);
  if (len <= 0) fail_invalid("bad_certificate", "certificate has no usable public key");
  OsslBytes owned(der);
  return sha256_hex(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
}

std::string make_crl(const KeyedCertificate& issuer, const std::vector<std::string>& revoked_serials_hex,
                     TimePoint this_update, TimePoint next_update) {
  LoadedIssuer loaded = load_issuer(issuer);
  std::unique_ptr<X509_CRL, Free<X509_CRL_free>> crl(X509_CRL_new());
  if (!crl || X509_CRL_set_version(crl.get(), 1) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(loaded.cert.get())) != 1)
    fail_internal("X509_CRL_new");
  std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>> last(ASN1_TIME_set(nullptr, to_time_t(this_update)));
  std::unique_ptr<ASN1_TIME, Free<ASN1_TIME_free>> next(ASN1_TIME_set(nullptr, to_time_t(next_update)));
  if (!last || !next || X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1)
    fail_invalid("bad_validity", "CRL time out of range");
  for (const auto& hex_serial : revoked_serials_hex) {
    BIGNUM* raw = nullptr;
    if (hex_serial.empty() || BN_hex2bn(&raw, hex_serial.c_str()) != static_cast<int>(hex_serial.size()))
      fail_invalid("bad_serial", "not a hex serial: " + hex_serial);
    BnPtr bn(raw);
    std::unique_ptr<X509_REVOKED, Free<X509_REVOKED_free>> revoked(X509_REVOKED_new());
    std::unique_ptr<ASN1_INTEGER, Free<ASN1_INTEGER_free>> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
    if (!revoked || !serial || X509_REVOKED_set_serialNumber(revoked.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(revoked.get(), last.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), revoked.get()) != 1)
      fail_internal("X509_CRL_add0_revoked");
    revoked.release();  // the CRL owns it now
  }
  X509_CRL_sort(crl.get());
  if (X509_CRL_sign(crl.get(), loaded.key.get(), signing_digest(loaded.key.get())) <= 0) fail_internal("X509_CRL_sign");
  BioPtr bio = write_bio();
  if (PEM_write_bio_X509_CRL(bio.get(), crl.get()) != 1) fail_internal("PEM_write_bio_X509_CRL");
  return bio_contents(bio.get());
}

}  // namespace byoc::crypto
