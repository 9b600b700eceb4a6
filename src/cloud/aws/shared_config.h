// The AWS shared files — `credentials` and `config` — read as the AWS CLI
// reads them, and a profile in them resolved to where its credentials come
// from. Pure: the caller reads the files (credentials.cc) and hands the text
// in; nothing here touches the file system, the environment or a clock.
//
// The format, as Python's configparser reads it for the AWS CLI: `[section]`
// lines, `key = value` or `key: value` lines (split at the first `=` or `:`),
// full-line `#` and `;` comments, blank lines. A `#` or `;` inside a value,
// even after whitespace, is part of the value (configparser has no inline
// comments); only after a section header's `]` is a comment allowed. A key
// whose value is empty may open a nested block of indented `key = value`
// lines (`s3 =\n  max_concurrent_requests = 10`); an indented line after a
// key with a value continues that value. Keys are case-insensitive (kept
// lowercase).
// In `config` a profile is `[profile NAME]` (or `[default]`); other sections
// (`[sso-session x]`, `[services x]`) are kept but are no profiles. In
// `credentials` a profile is `[NAME]`. For the same key in the same profile
// the credentials file wins.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace byoc::aws {

// ASCII helpers shared by the AWS configuration code (shared files, IMDS and
// endpoint variables): lowercase, and blanks (space, tab, CR) trimmed.
std::string ascii_lowercase(std::string_view s);
std::string_view trim_blanks(std::string_view s);

struct IniValue {
  std::string value;
  std::string file;  // for messages: "~/.aws/config"
  int line = 0;
  std::map<std::string, std::string> nested;  // the indented block under an empty value
};

struct IniSection {
  std::string name;  // as written between the brackets, trimmed ("profile dev")
  std::map<std::string, IniValue> values;
};

// Sections by name; a section written twice is merged, later keys winning
// (as the AWS SDKs for Java and Go do).
using IniFile = std::map<std::string, IniSection>;

// Throws byoc::Error kInvalid "aws_config_invalid" naming `file_name` and the
// line for a line that is none of the above, or a key before any section.
IniFile parse_ini(std::string_view text, std::string_view file_name);

// Both files, parsed. Either may be empty (a missing file).
struct SharedFiles {
  IniFile credentials;
  IniFile config;
};

// The settings of profile `name`, the credentials file's over the config
// file's; nullopt when neither file has that profile.
using ProfileSettings = std::map<std::string, IniValue>;
std::optional<ProfileSettings> profile_settings(const SharedFiles& files, std::string_view name);

// Where a profile's credentials come from before any role is assumed.
enum class CredentialOrigin {
  kStaticKeys,           // aws_access_key_id / aws_secret_access_key [/ aws_session_token]
  kEnvironment,          // credential_source = Environment
  kEc2InstanceMetadata,  // credential_source = Ec2InstanceMetadata
  kWebIdentity,          // role_arn + web_identity_token_file
  kEcsContainer,         // credential_source = EcsContainer (the container credentials endpoint)
};

struct StaticKeys {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

struct WebIdentitySettings {
  std::string role_arn;
  std::string token_file;
  std::string session_name;  // empty: the caller names one
};

// One role assumed in a chain, with the profile that names it.
struct RoleStep {
  std::string profile;
  std::string role_arn;
  std::string external_id;   // empty: none
  std::string session_name;  // empty: the caller names one
  std::chrono::seconds duration{3600};
};

// How to obtain a profile's credentials: take them from `origin`, then
// assume `roles` in order, each with the credentials of the step before.
struct CredentialPlan {
  std::string source_profile;  // the profile that holds the origin
  CredentialOrigin origin = CredentialOrigin::kStaticKeys;
  StaticKeys keys;                    // kStaticKeys
  WebIdentitySettings web_identity;   // kWebIdentity
  std::vector<RoleStep> roles;
};

struct ResolvedProfile {
  std::string name;
  std::string region;                     // empty when unset
  std::optional<CredentialPlan> credentials;  // none: the profile configures no credentials
};

// Resolves profile `name`. A profile with role_arn assumes it with the
// credentials of source_profile (which may chain further; a source profile
// with static keys uses them, as the AWS CLI does, and a profile may name
// itself as its source only when it has static keys) or of credential_source.
// Throws byoc::Error kInvalid:
//   "aws_profile_not_found"   no such profile (or a missing source_profile);
//   "aws_config_invalid"      a cycle of source profiles, both source_profile
//                             and credential_source, an unknown
//                             credential_source, an access key without its
//                             secret, a bad duration_seconds;
//   "aws_profile_unsupported" SSO (sso_*) and credential_process profiles,
//                             and a role profile with mfa_serial (byoc
//                             can't prompt for a code).
ResolvedProfile resolve_profile(const SharedFiles& files, std::string_view name);

}  // namespace byoc::aws
