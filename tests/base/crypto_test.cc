#include "base/crypto.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <set>

#include "base/error.h"

namespace byoc::crypto {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

// Independent OpenSSL views of what crypto.cc produced, so the tests check the
// encoded result rather than trusting inspect().
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct ReqFree {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

X509Ptr parse_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  EXPECT_TRUE(cert) << pem;
  return cert;
}

ReqPtr parse_csr(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  EXPECT_TRUE(req) << pem;
  return req;
}

PkeyPtr parse_key(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  EXPECT_TRUE(key) << pem;
  return key;
}

std::string csr_to_pem(X509_REQ* req) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_X509_REQ(bio.get(), req), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string pubkey_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string cert_der(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

TimePoint at_unix(int64_t s) { return TimePoint(seconds(s)); }

constexpr int64_t kStart = 1'800'000'000;

CertificateSpec ca_spec(const std::string& cn = "byoc test CA") {
  CertificateSpec spec;
  spec.common_name = cn;
  spec.not_before = at_unix(kStart);
  spec.not_after = at_unix(kStart) + hours(24 * 3650);
  return spec;
}

CertificateSpec server_spec() {
  CertificateSpec spec;
  spec.common_name = "server.byoc.test";
  spec.dns_names = {"server.byoc.test", "localhost"};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.server_auth = true;
  spec.not_before = at_unix(kStart + 3600);
  spec.not_after = at_unix(kStart + 3600 + 86400);
  return spec;
}

template <typename F>
ErrorKind error_kind(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no byoc::Error thrown";
  return ErrorKind::kInternal;
}

bool is_lower_hex(const std::string& s) {
  return s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(CryptoTest, RandomBytesHaveLengthAndDiffer) {
  EXPECT_EQ(random_bytes(0), "");
  std::string a = random_bytes(32), b = random_bytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(random_bytes(3000).size(), 3000u);
}

TEST(CryptoTest, HexIsLowercase) {
  EXPECT_EQ(hex(""), "");
  EXPECT_EQ(hex(std::string("\x00\x01\xab\xff", 4)), "0001abff");
}

TEST(CryptoTest, Base64UrlMatchesRfc4648Vectors) {
  // RFC 4648 §10 vectors, without the padding §5 lets us drop.
  EXPECT_EQ(base64url(""), "");
  EXPECT_EQ(base64url("f"), "Zg");
  EXPECT_EQ(base64url("fo"), "Zm8");
  EXPECT_EQ(base64url("foo"), "Zm9v");
  EXPECT_EQ(base64url("foob"), "Zm9vYg");
  EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: standard base64 of fb ff fe is "+//+".
  EXPECT_EQ(base64url(std::string("\xfb\xff\xfe", 3)), "-__-");
  EXPECT_EQ(base64url(std::string("\xfb\xff", 2)), "-_8");
}

TEST(CryptoTest, Sha256KnownAnswers) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").size(), 32u);
  EXPECT_EQ(hex(sha256("abc")), sha256_hex("abc"));
}

TEST(CryptoTest, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("secret-token", "secret-token"));
  EXPECT_FALSE(constant_time_equal("secret-token", "secret-tokeN"));
  EXPECT_FALSE(constant_time_equal("secret-token", "Secret-token"));
  EXPECT_FALSE(constant_time_equal("secret", "secret-token"));
  EXPECT_FALSE(constant_time_equal("secret-token", "secret"));
  EXPECT_FALSE(constant_time_equal("", "x"));
  EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
  EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(CryptoTest, GeneratesP256KeysAsPkcs8) {
  std::string pem = generate_key_pem();
  EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u) << pem;
  PkeyPtr key = parse_key(pem);
  ASSERT_TRUE(key);
  ASSERT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));
  char group[64] = {};
  size_t len = 0;
  ASSERT_EQ(EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len),
            1);
  EXPECT_EQ(std::string(group, len), "prime256v1");

  std::string pub = public_key_pem(pem);
  EXPECT_EQ(pub.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
  EXPECT_EQ(pub, pubkey_pem(key.get()));
  EXPECT_EQ(public_key_pem(pem), pub);
  EXPECT_NE(public_key_pem(generate_key_pem()), pub);
  EXPECT_EQ(error_kind([] { public_key_pem("not a key"); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, CaIssuesAndVerifies) {
  KeyedCertificate ca = make_ca(ca_spec());
  CertificateInfo ca_info = inspect(ca.cert_pem);
  EXPECT_TRUE(ca_info.is_ca);
  EXPECT_EQ(ca_info.common_name, "byoc test CA");
  EXPECT_EQ(ca_info.issuer_common_name, "byoc test CA");
  EXPECT_EQ(ca_info.not_before_unix, kStart);

  CertificateSpec spec = server_spec();
  KeyedCertificate leaf = issue(ca, spec);
  CertificateInfo info = inspect(leaf.cert_pem);
  EXPECT_FALSE(info.is_ca);
  EXPECT_EQ(info.common_name, "server.byoc.test");
  EXPECT_EQ(info.issuer_common_name, "byoc test CA");
  EXPECT_EQ(info.not_before_unix, kStart + 3600);
  EXPECT_EQ(info.not_after_unix, kStart + 3600 + 86400);
  EXPECT_TRUE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(kStart + 7200)));

  // The issued key is a fresh P-256 key that matches the certificate, signed with ECDSA-SHA256.
  X509Ptr cert = parse_cert(leaf.cert_pem);
  PkeyPtr key = parse_key(leaf.key_pem);
  ASSERT_TRUE(cert && key);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_get_version(cert.get()), X509_VERSION_3);
  EXPECT_NE(leaf.key_pem, ca.key_pem);
}

TEST(CryptoTest, SerialsAreRandomPositive128Bit) {
  KeyedCertificate ca = make_ca(ca_spec());
  std::set<std::string> serials;
  for (int i = 0; i < 8; ++i) {
    std::string serial = inspect(issue(ca, server_spec()).cert_pem).serial_hex;
    EXPECT_TRUE(is_lower_hex(serial)) << serial;
    EXPECT_LE(serial.size(), 32u);
    EXPECT_GE(serial.size(), 16u);  // a 128-bit random value is this short with odds 2^-64
    serials.insert(serial);
  }
  EXPECT_EQ(serials.size(), 8u);
  X509Ptr cert = parse_cert(ca.cert_pem);
  EXPECT_NE(ASN1_STRING_type(X509_get0_serialNumber(cert.get())), V_ASN1_NEG_INTEGER);
}

TEST(CryptoTest, ExtensionsArePresent) {
  KeyedCertificate ca = make_ca(ca_spec());
  CertificateSpec spec = server_spec();
  spec.client_auth = true;
  X509Ptr cert = parse_cert(issue(ca, spec).cert_pem);
  ASSERT_TRUE(cert);

  // subjectAltName: both DNS names and both IPs, as raw addresses.
  int crit = -1;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &crit, nullptr));
  ASSERT_NE(names, nullptr);
  std::vector<std::string> dns, ips;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    int type = 0;
    auto* value = static_cast<ASN1_STRING*>(GENERAL_NAME_get0_value(gn, &type));
    std::string bytes(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                      static_cast<size_t>(ASN1_STRING_length(value)));
    (type == GEN_DNS ? dns : ips).push_back(type == GEN_IPADD ? hex(bytes) : bytes);
  }
  GENERAL_NAMES_free(names);
  EXPECT_EQ(dns, (std::vector<std::string>{"server.byoc.test", "localhost"}));
  EXPECT_EQ(ips, (std::vector<std::string>{"7f000001", "00000000000000000000000000000001"}));

  // EKU serverAuth + clientAuth; keyUsage digitalSignature, no certificate signing.
  uint32_t xku = X509_get_extended_key_usage(cert.get());
  EXPECT_TRUE(xku & XKU_SSL_SERVER);
  EXPECT_TRUE(xku & XKU_SSL_CLIENT);
  uint32_t ku = X509_get_key_usage(cert.get());
  EXPECT_TRUE(ku & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(ku & KU_KEY_CERT_SIGN);

  // basicConstraints present, critical, CA:FALSE.
  int bc = X509_get_ext_by_NID(cert.get(), NID_basic_constraints, -1);
  ASSERT_GE(bc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert.get(), bc)), 1);
  EXPECT_FALSE(X509_get_extension_flags(cert.get()) & EXFLAG_CA);

  // The authority key id names the CA's subject key id.
  X509Ptr ca_cert = parse_cert(ca.cert_pem);
  const ASN1_OCTET_STRING* aki = X509_get0_authority_key_id(cert.get());
  const ASN1_OCTET_STRING* ca_ski = X509_get0_subject_key_id(ca_cert.get());
  ASSERT_TRUE(aki && ca_ski && X509_get0_subject_key_id(cert.get()));
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(aki, ca_ski), 0);

  // The CA: basicConstraints CA:TRUE critical, keyCertSign + cRLSign, self-referencing AKI.
  int ca_bc = X509_get_ext_by_NID(ca_cert.get(), NID_basic_constraints, -1);
  ASSERT_GE(ca_bc, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(ca_cert.get(), ca_bc)), 1);
  EXPECT_TRUE(X509_get_extension_flags(ca_cert.get()) & EXFLAG_CA);
  EXPECT_TRUE(X509_get_key_usage(ca_cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_TRUE(X509_get_key_usage(ca_cert.get()) & KU_CRL_SIGN);
  ASSERT_TRUE(X509_get0_authority_key_id(ca_cert.get()));
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(ca_cert.get()), ca_ski), 0);
}

TEST(CryptoTest, EkuFollowsSpec) {
  KeyedCertificate ca = make_ca(ca_spec());
  CertificateSpec spec = server_spec();
  spec.server_auth = false;
  spec.client_auth = true;
  X509Ptr client = parse_cert(issue(ca, spec).cert_pem);
  EXPECT_TRUE(X509_get_extended_key_usage(client.get()) & XKU_SSL_CLIENT);
  EXPECT_FALSE(X509_get_extended_key_usage(client.get()) & XKU_SSL_SERVER);

  spec.server_auth = true;
  spec.client_auth = false;
  X509Ptr server = parse_cert(issue(ca, spec).cert_pem);
  EXPECT_TRUE(X509_get_extended_key_usage(server.get()) & XKU_SSL_SERVER);
  EXPECT_FALSE(X509_get_extended_key_usage(server.get()) & XKU_SSL_CLIENT);
}

TEST(CryptoTest, ValidityWindowIsHonoured) {
  KeyedCertificate ca = make_ca(ca_spec());
  CertificateSpec spec = server_spec();
  KeyedCertificate leaf = issue(ca, spec);
  const int64_t from = kStart + 3600, to = kStart + 3600 + 86400;
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(from - 1)));
  EXPECT_TRUE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(from)));
  EXPECT_TRUE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(from + 43200)));
  EXPECT_TRUE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(to - 1)));
  // OpenSSL counts the notAfter second itself as expired.
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(to)));
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(to + 1)));
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, ca.cert_pem, at_unix(to + 86400 * 30)));

  // The CA's own window counts too: a leaf outliving its CA is not valid then.
  CertificateSpec short_ca = ca_spec();
  short_ca.not_after = at_unix(kStart + 7200);
  KeyedCertificate brief = make_ca(short_ca);
  KeyedCertificate outliving = issue(brief, spec);
  EXPECT_TRUE(verify_issued_by(outliving.cert_pem, brief.cert_pem, at_unix(kStart + 3600)));
  EXPECT_FALSE(verify_issued_by(outliving.cert_pem, brief.cert_pem, at_unix(kStart + 7200 + 60)));

  // Dates past 2049 need GeneralizedTime; they must round-trip too.
  CertificateSpec far = spec;
  far.not_after = at_unix(2'600'000'000);
  EXPECT_EQ(inspect(issue(ca, far).cert_pem).not_after_unix, 2'600'000'000);

  EXPECT_EQ(error_kind([&] {
              CertificateSpec backwards = spec;
              backwards.not_after = backwards.not_before;
              issue(ca, backwards);
            }),
            ErrorKind::kInvalid);
}

TEST(CryptoTest, WrongCaIsRejected) {
  KeyedCertificate ca = make_ca(ca_spec());
  // Same name, different key: only the signature can tell them apart.
  KeyedCertificate impostor = make_ca(ca_spec());
  KeyedCertificate leaf = issue(ca, server_spec());
  KeyedCertificate forged = issue(impostor, server_spec());
  TimePoint when = at_unix(kStart + 7200);
  EXPECT_TRUE(verify_issued_by(leaf.cert_pem, ca.cert_pem, when));
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, impostor.cert_pem, when));
  EXPECT_FALSE(verify_issued_by(forged.cert_pem, ca.cert_pem, when));
  KeyedCertificate other = make_ca(ca_spec("another CA"));
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, other.cert_pem, when));
  // A leaf is not a CA, even for certificates it "signed" by name.
  EXPECT_FALSE(verify_issued_by(leaf.cert_pem, leaf.cert_pem, when));
  EXPECT_EQ(error_kind([&] { verify_issued_by("garbage", ca.cert_pem, when); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, IssueNeedsAKeyedCa) {
  KeyedCertificate ca = make_ca(ca_spec());
  KeyedCertificate leaf = issue(ca, server_spec());
  EXPECT_EQ(error_kind([&] {
              issue(KeyedCertificate{ca.cert_pem, ""}, server_spec());
            }),
            ErrorKind::kInvalid);
  EXPECT_EQ(error_kind([&] { issue(leaf, server_spec()); }), ErrorKind::kInvalid);
  KeyedCertificate mismatched{ca.cert_pem, generate_key_pem()};
  EXPECT_EQ(error_kind([&] { issue(mismatched, server_spec()); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, BadSpecIsInvalid) {
  KeyedCertificate ca = make_ca(ca_spec());
  auto with = [&](auto change) {
    CertificateSpec spec = server_spec();
    change(spec);
    return error_kind([&] { issue(ca, spec); });
  };
  EXPECT_EQ(with([](CertificateSpec& s) { s.common_name = ""; }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.common_name = std::string(65, 'a'); }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.ip_addresses = {"1.2.3"}; }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.ip_addresses = {"localhost"}; }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.dns_names = {"a b.example"}; }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.dns_names = {"evil.example,IP:1.2.3.4"}; }), ErrorKind::kInvalid);
  EXPECT_EQ(with([](CertificateSpec& s) { s.dns_names = {""}; }), ErrorKind::kInvalid);
  CertificateSpec fine = server_spec();
  fine.dns_names = {"*.svc.byoc.test", "a-1.b"};
  EXPECT_NO_THROW(issue(ca, fine));
}

TEST(CryptoTest, CsrRoundTripTakesOnlyTheKey) {
  KeyedCertificate ca = make_ca(ca_spec());
  std::string key = generate_key_pem();
  std::string csr = make_csr(key, "requested-name");
  EXPECT_EQ(csr.rfind("-----BEGIN CERTIFICATE REQUEST-----", 0), 0u);

  CertificateSpec spec;
  spec.common_name = "agent env-42";
  spec.client_auth = true;
  spec.not_before = at_unix(kStart);
  spec.not_after = at_unix(kStart + 86400);
  std::string cert_pem = sign_csr(ca, csr, spec);

  CertificateInfo info = inspect(cert_pem);
  EXPECT_EQ(info.common_name, "agent env-42");  // from the spec, not the CSR
  EXPECT_EQ(info.issuer_common_name, "byoc test CA");
  EXPECT_FALSE(info.is_ca);
  X509Ptr cert = parse_cert(cert_pem);
  EXPECT_EQ(pubkey_pem(X509_get0_pubkey(cert.get())), public_key_pem(key));
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT);
  EXPECT_FALSE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER);
  EXPECT_TRUE(verify_issued_by(cert_pem, ca.cert_pem, at_unix(kStart + 10)));
}

TEST(CryptoTest, CsrExtensionsAreIgnored) {
  // A requester asks for CA:TRUE and a SAN; it must get neither.
  KeyedCertificate ca = make_ca(ca_spec());
  std::string key_pem = generate_key_pem();
  ReqPtr req = parse_csr(make_csr(key_pem, "greedy"));
  PkeyPtr key = parse_key(key_pem);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  sk_X509_EXTENSION_push(exts,
                         X509V3_EXT_nconf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  sk_X509_EXTENSION_push(exts, X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:evil.example"));
  ASSERT_EQ(X509_REQ_add_extensions(req.get(), exts), 1);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  ASSERT_GT(X509_REQ_sign(req.get(), key.get(), EVP_sha256()), 0);

  CertificateSpec spec;
  spec.common_name = "agent";
  spec.client_auth = true;
  spec.not_before = at_unix(kStart);
  spec.not_after = at_unix(kStart + 86400);
  X509Ptr cert = parse_cert(sign_csr(ca, csr_to_pem(req.get()), spec));
  EXPECT_FALSE(X509_get_extension_flags(cert.get()) & EXFLAG_CA);
  EXPECT_LT(X509_get_ext_by_NID(cert.get(), NID_subject_alt_name, -1), 0);
}

TEST(CryptoTest, CsrWithBadSignatureIsRejected) {
  KeyedCertificate ca = make_ca(ca_spec());
  CertificateSpec spec = server_spec();
  std::string key = generate_key_pem();
  std::string good = make_csr(key, "agent");
  ASSERT_NO_THROW(sign_csr(ca, good, spec));

  // Someone else's public key put into a request signed by us: no proof of possession.
  {
    ReqPtr req = parse_csr(good);
    PkeyPtr victim = parse_key(generate_key_pem());
    ASSERT_EQ(X509_REQ_set_pubkey(req.get(), victim.get()), 1);
    std::string swapped = csr_to_pem(req.get());
    EXPECT_EQ(error_kind([&] { sign_csr(ca, swapped, spec); }), ErrorKind::kInvalid);
  }
  // A corrupted signature (flip a bit in the last signature byte).
  {
    ReqPtr req = parse_csr(good);
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(req.get(), &sig, nullptr);
    ASSERT_NE(sig, nullptr);
    auto* data = const_cast<unsigned char*>(ASN1_STRING_get0_data(sig));
    data[ASN1_STRING_length(sig) - 1] ^= 0x01;
    std::string corrupt = csr_to_pem(req.get());
    ASSERT_NE(corrupt, good);
    EXPECT_EQ(error_kind([&] { sign_csr(ca, corrupt, spec); }), ErrorKind::kInvalid);
  }
  EXPECT_EQ(error_kind([&] { sign_csr(ca, "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", spec); }),
            ErrorKind::kInvalid);
  EXPECT_EQ(error_kind([&] { sign_csr(ca, "", spec); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, CsrWithWeakKeyIsRejected) {
  KeyedCertificate ca = make_ca(ca_spec());
  PkeyPtr rsa(EVP_RSA_gen(1024));
  ASSERT_TRUE(rsa);
  BioPtr bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), rsa.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  std::string csr = make_csr(std::string(data, static_cast<size_t>(len)), "weak");
  EXPECT_EQ(error_kind([&] { sign_csr(ca, csr, server_spec()); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, CertificateHashIsStableHexOfDer) {
  KeyedCertificate ca = make_ca(ca_spec());
  std::string h = certificate_sha256_hex(ca.cert_pem);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_TRUE(is_lower_hex(h)) << h;
  EXPECT_EQ(certificate_sha256_hex(ca.cert_pem), h);
  X509Ptr cert = parse_cert(ca.cert_pem);
  EXPECT_EQ(h, sha256_hex(cert_der(cert.get())));
  // Surrounding text and a trailing chain don't change the hash of the first certificate.
  KeyedCertificate other = make_ca(ca_spec());
  EXPECT_EQ(certificate_sha256_hex("leading text\n" + ca.cert_pem + other.cert_pem), h);
  EXPECT_NE(certificate_sha256_hex(other.cert_pem), h);
  EXPECT_EQ(error_kind([] { certificate_sha256_hex("nope"); }), ErrorKind::kInvalid);
}

TEST(CryptoTest, SplitsPemBundleInOrder) {
  KeyedCertificate ca = make_ca(ca_spec("first"));
  KeyedCertificate second = make_ca(ca_spec("second"));
  KeyedCertificate leaf = issue(ca, server_spec());
  std::string bundle = leaf.cert_pem + "\n" + leaf.key_pem + ca.cert_pem + "comment\n" + second.cert_pem;
  std::vector<std::string> certs = split_pem_certificates(bundle);
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_EQ(certs[0], leaf.cert_pem);
  EXPECT_EQ(certs[1], ca.cert_pem);
  EXPECT_EQ(certs[2], second.cert_pem);
  EXPECT_EQ(inspect(certs[2]).common_name, "second");
  EXPECT_TRUE(split_pem_certificates("").empty());
  EXPECT_EQ(error_kind([] {
              split_pem_certificates("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
            }),
            ErrorKind::kInvalid);
}

TEST(CryptoTest, InspectRejectsGarbage) {
  EXPECT_EQ(error_kind([] { inspect(""); }), ErrorKind::kInvalid);
  EXPECT_EQ(error_kind([] { inspect("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"); }),
            ErrorKind::kInvalid);
}

// RFC 5869, appendix A.1.
TEST(Crypto, HkdfSha256MatchesTheRfcVector) {
  std::string ikm(22, '\x0b');
  std::string salt;
  for (int i = 0; i <= 0x0c; ++i) salt += static_cast<char>(i);
  std::string info;
  for (int i = 0xf0; i <= 0xf9; ++i) info += static_cast<char>(i);
  EXPECT_EQ(hex(hkdf_sha256(ikm, salt, info, 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

}  // namespace
}  // namespace byoc::crypto

namespace byoc::crypto {
namespace {

// A CRL from make_crl, read back by OpenSSL itself: signed by the CA, with
// the given update times, and a store holding it refuses exactly the
// revoked certificate.
TEST(CryptoTest, ACrlRevokesExactlyTheListedSerials) {
  auto now = std::chrono::system_clock::now();
  KeyedCertificate ca = make_ca({.common_name = "support CA", .not_before = now - hours(1), .not_after = now + hours(24)});
  CertificateSpec leaf{.common_name = "eng", .client_auth = true, .not_before = now - hours(1), .not_after = now + hours(2)};
  KeyedCertificate revoked = issue(ca, leaf), kept = issue(ca, leaf);
  std::string pem = make_crl(ca, {inspect(revoked.cert_pem).serial_hex}, now, now + hours(6));

  std::unique_ptr<BIO, void (*)(BIO*)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free_all);
  std::unique_ptr<X509_CRL, void (*)(X509_CRL*)> crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr),
                                                     X509_CRL_free);
  ASSERT_TRUE(crl);
  X509Ptr ca_cert = parse_cert(ca.cert_pem);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(ca_cert.get())), 1);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.get())), 1);
  EXPECT_EQ(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl.get()),
                                 std::chrono::system_clock::to_time_t(now + hours(6))),
            0);

  auto verifies = [&](const std::string& cert_pem) {
    std::unique_ptr<X509_STORE, void (*)(X509_STORE*)> store(X509_STORE_new(), X509_STORE_free);
    X509_STORE_add_cert(store.get(), ca_cert.get());
    X509_STORE_add_crl(store.get(), crl.get());
    X509_STORE_set_flags(store.get(), X509_V_FLAG_CRL_CHECK);
    std::unique_ptr<X509_STORE_CTX, void (*)(X509_STORE_CTX*)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    X509Ptr cert = parse_cert(cert_pem);
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    bool ok = X509_verify_cert(ctx.get()) == 1;
    return ok ? 0 : X509_STORE_CTX_get_error(ctx.get());
  };
  EXPECT_EQ(verifies(kept.cert_pem), 0);
  EXPECT_EQ(verifies(revoked.cert_pem), X509_V_ERR_CERT_REVOKED);
  EXPECT_THROW(make_crl(ca, {"not hex"}, now, now + hours(6)), Error);
}

}  // namespace
}  // namespace byoc::crypto
