// cloud/aws/shared_config.h: the shared files parsed as the AWS CLI reads
// them, and profiles resolved to where their credentials come from — static
// keys, role chains through source_profile, credential_source, web identity
// — with cycles, malformed lines and unsupported kinds as clear errors.
#include "cloud/aws/shared_config.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "testing/testing.h"

namespace byoc::aws {
namespace {

using byoc::testing::error_code;


SharedFiles files(std::string_view credentials, std::string_view config) {
  return {parse_ini(credentials, "credentials"), parse_ini(config, "config")};
}

TEST(ParseIni, SectionsKeysCommentsAndWhitespace) {
  IniFile f = parse_ini(
      "# a comment\n"
      "; another\n"
      "\n"
      "[default]   # trailing comment\n"
      "aws_access_key_id=AKIDEXAMPLE\n"
      "  \n"
      "Region =   eu-west-1   ; why\n"
      "[ profile dev ]\r\n"
      "role_arn = arn:aws:iam::123456789012:role/a#b\r\n",
      "config");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f["default"].values["aws_access_key_id"].value, "AKIDEXAMPLE");
  // Keys lowercased; as in the AWS CLI's configparser, no inline comments: a
  // `;` or `#` after whitespace in a value is part of it.
  EXPECT_EQ(f["default"].values["region"].value, "eu-west-1   ; why");
  EXPECT_EQ(f["default"].values["region"].line, 7);
  EXPECT_EQ(f["default"].values["region"].file, "config");
  // A '#' not after whitespace is part of the value.
  EXPECT_EQ(f["profile dev"].values["role_arn"].value, "arn:aws:iam::123456789012:role/a#b");
}

// configparser (which the AWS CLI reads these files with) strips full-line
// comments only, and splits `key = value` and `key: value` alike at the
// first delimiter.
TEST(ParseIni, LikeConfigparserInlineHashAndColonDelimiter) {
  IniFile f = parse_ini(
      "[profile dev]\n"
      "role_session_name = ops #1 ;night\n"
      "region: us-east-2\n"
      "role_arn = arn:aws:iam::1:role/x\n"
      "  # an indented comment line is still a comment\n"
      "note: a = b\n"
      "s3 =\n"
      "  addressing_style = path # kept\n",
      "config");
  const auto& v = f["profile dev"].values;
  EXPECT_EQ(v.at("role_session_name").value, "ops #1 ;night");
  EXPECT_EQ(v.at("region").value, "us-east-2");
  EXPECT_EQ(v.at("role_arn").value, "arn:aws:iam::1:role/x");
  EXPECT_EQ(v.at("note").value, "a = b");
  EXPECT_EQ(v.at("s3").nested.at("addressing_style"), "path # kept");
}

TEST(ParseIni, NestedBlocksAndContinuations) {
  IniFile f = parse_ini(
      "[profile dev]\n"
      "s3 =\n"
      "  max_concurrent_requests = 10\n"
      "  multipart_threshold = 64MB\n"
      "region = us-west-2\n"
      "note = first\n"
      "  second\n",
      "config");
  const auto& values = f["profile dev"].values;
  EXPECT_EQ(values.at("s3").value, "");
  EXPECT_EQ(values.at("s3").nested.at("max_concurrent_requests"), "10");
  EXPECT_EQ(values.at("s3").nested.at("multipart_threshold"), "64MB");
  EXPECT_EQ(values.at("region").value, "us-west-2");
  EXPECT_EQ(values.at("note").value, "first\nsecond");
}

TEST(ParseIni, MalformedLinesNameFileAndLineButNotTheText) {
  EXPECT_EQ(error_code([] { parse_ini("[default]\nthis is not a pair\n", "/home/x/.aws/credentials"); }),
            "aws_config_invalid");
  std::string m = byoc::testing::error_message([] { parse_ini("[default]\nSECRETSECRET\n", "/home/x/.aws/credentials"); });
  EXPECT_NE(m.find("/home/x/.aws/credentials line 2"), std::string::npos) << m;
  EXPECT_EQ(m.find("SECRETSECRET"), std::string::npos) << m;

  EXPECT_NE(byoc::testing::error_message([] { parse_ini("key = value\n", "config"); }).find("config line 1"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[default\n", "config"); }).find("line 1"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[]\n", "config"); }).find("line 1"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[a] junk\n", "config"); }).find("line 1"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[a]\n= v\n", "config"); }).find("line 2"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[a]\n  indented = first\n", "config"); }).find("line 2"), std::string::npos);
  EXPECT_NE(byoc::testing::error_message([] { parse_ini("[a]\ns3 =\n  no pair here\n", "config"); }).find("line 3"),
            std::string::npos);
}

TEST(ParseIni, EmptyTextIsNoSections) { EXPECT_TRUE(parse_ini("", "config").empty()); }

TEST(ProfileSettings, CredentialsFileWinsAndConfigNeedsProfilePrefix) {
  SharedFiles f = files(
      "[dev]\naws_access_key_id = FROM_CREDENTIALS\n",
      "[profile dev]\naws_access_key_id = FROM_CONFIG\nregion = eu-north-1\n"
      "[prod]\nregion = ignored\n"
      "[default]\nregion = us-east-2\n");
  auto dev = profile_settings(f, "dev");
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->at("aws_access_key_id").value, "FROM_CREDENTIALS");
  EXPECT_EQ(dev->at("aws_access_key_id").file, "credentials");
  EXPECT_EQ(dev->at("region").value, "eu-north-1");
  // `[prod]` in config is no profile.
  EXPECT_FALSE(profile_settings(f, "prod"));
  EXPECT_EQ(profile_settings(f, "default")->at("region").value, "us-east-2");
  EXPECT_FALSE(profile_settings(f, "missing"));
}

TEST(ProfileSettings, ProfileDefaultOverDefaultInConfig) {
  SharedFiles f = files("", "[default]\nregion = a-1\noutput = json\n[profile default]\nregion = b-2\n");
  auto d = profile_settings(f, "default");
  EXPECT_EQ(d->at("region").value, "b-2");
  EXPECT_EQ(d->at("output").value, "json");
}

TEST(ResolveProfile, StaticKeysWithSessionTokenAndRegion) {
  SharedFiles f = files("[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\naws_session_token = TOK\n",
                        "[default]\nregion = eu-west-1\n");
  ResolvedProfile p = resolve_profile(f, "default");
  EXPECT_EQ(p.region, "eu-west-1");
  ASSERT_TRUE(p.credentials);
  EXPECT_EQ(p.credentials->origin, CredentialOrigin::kStaticKeys);
  EXPECT_EQ(p.credentials->keys.access_key_id, "AKID");
  EXPECT_EQ(p.credentials->keys.secret_access_key, "SECRET");
  EXPECT_EQ(p.credentials->keys.session_token, "TOK");
  EXPECT_TRUE(p.credentials->roles.empty());
}

TEST(ResolveProfile, RegionOnlyProfileHasNoCredentials) {
  ResolvedProfile p = resolve_profile(files("", "[profile r]\nregion = us-west-1\n"), "r");
  EXPECT_EQ(p.region, "us-west-1");
  EXPECT_FALSE(p.credentials);
}

TEST(ResolveProfile, MissingProfileAndHalfKeys) {
  EXPECT_EQ(error_code([] { resolve_profile(files("", ""), "nope"); }), "aws_profile_not_found");
  EXPECT_EQ(error_code([] { resolve_profile(files("[a]\naws_access_key_id = X\n", ""), "a"); }),
            "aws_config_invalid");
}

TEST(ResolveProfile, RoleChainThroughSourceProfiles) {
  SharedFiles f = files(
      "[base]\naws_access_key_id = AKID\naws_secret_access_key = SECRET\n",
      "[profile middle]\nrole_arn = arn:aws:iam::111111111111:role/middle\nsource_profile = base\n"
      "[profile top]\nrole_arn = arn:aws:iam::222222222222:role/top\nsource_profile = middle\n"
      "external_id = ext-123\nrole_session_name = me\nduration_seconds = 1800\nregion = ap-south-1\n");
  ResolvedProfile p = resolve_profile(f, "top");
  ASSERT_TRUE(p.credentials);
  const CredentialPlan& plan = *p.credentials;
  EXPECT_EQ(plan.origin, CredentialOrigin::kStaticKeys);
  EXPECT_EQ(plan.source_profile, "base");
  EXPECT_EQ(plan.keys.access_key_id, "AKID");
  ASSERT_EQ(plan.roles.size(), 2u);
  EXPECT_EQ(plan.roles[0].profile, "middle");
  EXPECT_EQ(plan.roles[0].role_arn, "arn:aws:iam::111111111111:role/middle");
  EXPECT_EQ(plan.roles[0].external_id, "");
  EXPECT_EQ(plan.roles[0].duration, std::chrono::seconds(3600));
  EXPECT_EQ(plan.roles[1].role_arn, "arn:aws:iam::222222222222:role/top");
  EXPECT_EQ(plan.roles[1].external_id, "ext-123");
  EXPECT_EQ(plan.roles[1].session_name, "me");
  EXPECT_EQ(plan.roles[1].duration, std::chrono::seconds(1800));
  EXPECT_EQ(p.region, "ap-south-1");
}

TEST(ResolveProfile, SourceProfileStaticKeysWinOverItsOwnRole) {
  // As in the AWS CLI: used as a source, a profile with keys gives the keys.
  SharedFiles f = files("",
                        "[profile src]\naws_access_key_id = A\naws_secret_access_key = S\n"
                        "role_arn = arn:aws:iam::1:role/ignored\nsource_profile = other\n"
                        "[profile top]\nrole_arn = arn:aws:iam::1:role/top\nsource_profile = src\n");
  auto plan = *resolve_profile(f, "top").credentials;
  EXPECT_EQ(plan.origin, CredentialOrigin::kStaticKeys);
  ASSERT_EQ(plan.roles.size(), 1u);
  EXPECT_EQ(plan.roles[0].role_arn, "arn:aws:iam::1:role/top");
  // Selected directly, the role wins over the keys (and names a missing source).
  EXPECT_EQ(error_code([&] { resolve_profile(f, "src"); }), "aws_profile_not_found");
}

TEST(ResolveProfile, SelfReferenceNeedsStaticKeys) {
  SharedFiles ok = files("[me]\naws_access_key_id = A\naws_secret_access_key = S\n",
                         "[profile me]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\n");
  auto plan = *resolve_profile(ok, "me").credentials;
  EXPECT_EQ(plan.origin, CredentialOrigin::kStaticKeys);
  EXPECT_EQ(plan.roles.size(), 1u);
  SharedFiles bad = files("", "[profile me]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = me\n");
  EXPECT_EQ(error_code([&] { resolve_profile(bad, "me"); }), "aws_config_invalid");
}

TEST(ResolveProfile, CyclesAreDetected) {
  SharedFiles f = files("",
                        "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                        "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n"
                        "[profile c]\nrole_arn = arn:aws:iam::1:role/c\nsource_profile = a\n");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "a"); }), "aws_config_invalid");
  std::string m = byoc::testing::error_message([&] { resolve_profile(f, "a"); });
  EXPECT_NE(m.find("cycle"), std::string::npos) << m;
  EXPECT_NE(m.find("\"a\" → \"b\" → \"c\" → \"a\""), std::string::npos) << m;
}

TEST(ResolveProfile, MissingSourceProfileIsNamed) {
  SharedFiles f = files("", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = ghost\n");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "a"); }), "aws_profile_not_found");
  std::string m = byoc::testing::error_message([&] { resolve_profile(f, "a"); });
  EXPECT_NE(m.find("ghost"), std::string::npos);
  EXPECT_NE(m.find("source_profile of profile \"a\""), std::string::npos) << m;
}

TEST(ResolveProfile, SourceProfileWithoutCredentials) {
  SharedFiles f = files("", "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
                            "[profile b]\nregion = us-east-1\n");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "a"); }), "aws_config_invalid");
}

TEST(ResolveProfile, CredentialSources) {
  SharedFiles f = files("",
                        "[profile env]\nrole_arn = arn:aws:iam::1:role/e\ncredential_source = Environment\n"
                        "[profile ec2]\nrole_arn = arn:aws:iam::1:role/i\ncredential_source = Ec2InstanceMetadata\n"
                        "[profile ecs]\nrole_arn = arn:aws:iam::1:role/c\ncredential_source = EcsContainer\n"
                        "[profile odd]\nrole_arn = arn:aws:iam::1:role/o\ncredential_source = Elsewhere\n"
                        "[profile both]\nrole_arn = arn:aws:iam::1:role/b\ncredential_source = Environment\n"
                        "source_profile = env\n"
                        "[profile neither]\nrole_arn = arn:aws:iam::1:role/n\n");
  auto env = *resolve_profile(f, "env").credentials;
  EXPECT_EQ(env.origin, CredentialOrigin::kEnvironment);
  EXPECT_EQ(env.roles.at(0).role_arn, "arn:aws:iam::1:role/e");
  EXPECT_EQ(resolve_profile(f, "ec2").credentials->origin, CredentialOrigin::kEc2InstanceMetadata);
  EXPECT_EQ(resolve_profile(f, "ecs").credentials->origin, CredentialOrigin::kEcsContainer);
  EXPECT_EQ(resolve_profile(f, "ecs").credentials->roles.at(0).role_arn, "arn:aws:iam::1:role/c");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "odd"); }), "aws_config_invalid");
  EXPECT_NE(byoc::testing::error_message([&] { resolve_profile(f, "odd"); }).find("config line"), std::string::npos);
  EXPECT_EQ(error_code([&] { resolve_profile(f, "both"); }), "aws_config_invalid");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "neither"); }), "aws_config_invalid");
}

TEST(ResolveProfile, WebIdentityProfile) {
  SharedFiles f = files("", "[profile w]\nrole_arn = arn:aws:iam::1:role/w\n"
                            "web_identity_token_file = /var/run/token\nrole_session_name = pod\n"
                            "[profile chained]\nrole_arn = arn:aws:iam::2:role/x\nsource_profile = w\n");
  auto w = *resolve_profile(f, "w").credentials;
  EXPECT_EQ(w.origin, CredentialOrigin::kWebIdentity);
  EXPECT_EQ(w.web_identity.role_arn, "arn:aws:iam::1:role/w");
  EXPECT_EQ(w.web_identity.token_file, "/var/run/token");
  EXPECT_EQ(w.web_identity.session_name, "pod");
  EXPECT_TRUE(w.roles.empty());
  auto chained = *resolve_profile(f, "chained").credentials;
  EXPECT_EQ(chained.origin, CredentialOrigin::kWebIdentity);
  ASSERT_EQ(chained.roles.size(), 1u);
  EXPECT_EQ(chained.roles[0].role_arn, "arn:aws:iam::2:role/x");
}

TEST(ResolveProfile, DurationSecondsIsValidated) {
  for (const char* bad : {"abc", "899", "43201", "10s", "-1"}) {
    SharedFiles f = files("[s]\naws_access_key_id = A\naws_secret_access_key = S\n",
                          std::string("[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\n"
                                      "duration_seconds = ") + bad + "\n");
    EXPECT_EQ(error_code([&] { resolve_profile(f, "r"); }), "aws_config_invalid") << bad;
  }
}

TEST(ResolveProfile, SsoAndCredentialProcessAreUnsupported) {
  SharedFiles f = files("[both]\naws_access_key_id = A\naws_secret_access_key = S\n",
                        "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = Admin\n"
                        "[profile legacy-sso]\nsso_start_url = https://x.awsapps.com/start\n"
                        "[profile proc]\ncredential_process = /usr/bin/get-creds\n"
                        "[profile both]\ncredential_process = /usr/bin/get-creds\n");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "sso"); }), "aws_profile_unsupported");
  EXPECT_NE(byoc::testing::error_message([&] { resolve_profile(f, "sso"); }).find("SSO"), std::string::npos);
  EXPECT_EQ(error_code([&] { resolve_profile(f, "legacy-sso"); }), "aws_profile_unsupported");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "proc"); }), "aws_profile_unsupported");
  EXPECT_NE(byoc::testing::error_message([&] { resolve_profile(f, "proc"); }).find("credential_process"), std::string::npos);
  // Static keys come first, as the AWS CLI orders them.
  EXPECT_EQ(resolve_profile(f, "both").credentials->origin, CredentialOrigin::kStaticKeys);
}

// The AWS CLI would prompt for an MFA code; byoc can't, and must not assume
// the role without one as if mfa_serial were not there.
TEST(ResolveProfile, MfaSerialIsUnsupported) {
  SharedFiles f = files("[s]\naws_access_key_id = A\naws_secret_access_key = S\n",
                        "[profile mfa]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = s\n"
                        "mfa_serial = arn:aws:iam::1:mfa/ops\n"
                        "[profile via-mfa]\nrole_arn = arn:aws:iam::1:role/v\nsource_profile = mfa\n");
  EXPECT_EQ(error_code([&] { resolve_profile(f, "mfa"); }), "aws_profile_unsupported");
  EXPECT_NE(byoc::testing::error_message([&] { resolve_profile(f, "mfa"); }).find("mfa_serial"), std::string::npos);
  EXPECT_EQ(error_code([&] { resolve_profile(f, "via-mfa"); }), "aws_profile_unsupported");
}

}  // namespace
}  // namespace byoc::aws
