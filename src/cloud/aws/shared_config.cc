#include "cloud/aws/shared_config.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/error.h"

namespace byoc::aws {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Messages name the file and the line, never the line's text: a malformed
// line of a credentials file may hold a secret.
[[noreturn]] void malformed(std::string_view file, int line, const std::string& what) {
  throw Error::Invalid("aws_config_invalid",
                       "AWS shared file " + std::string(file) + " line " + std::to_string(line) + ": " + what);
}

std::string where(const IniValue& v) { return v.file + " line " + std::to_string(v.line); }

}  // namespace

std::string ascii_lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim_blanks(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  size_t first = 0;
  while (first < s.size() && blank(s[first])) ++first;
  size_t last = s.size();
  while (last > first && blank(s[last - 1])) --last;
  return s.substr(first, last - first);
}

IniFile parse_ini(std::string_view text, std::string_view file_name) {
  IniFile file;
  IniSection* section = nullptr;
  IniValue* last = nullptr;  // the value an indented line belongs to
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view raw = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    std::string_view line = trim_blanks(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    bool indented = is_blank(raw[0]);

    if (indented) {
      if (!last) malformed(file_name, line_number, "an indented line with no `key =` above it");
      if (last->value.empty()) {
        auto eq = line.find('=');
        if (eq == std::string_view::npos)
          malformed(file_name, line_number, "expected `key = value` in the nested block");
        std::string key = ascii_lowercase(trim_blanks(line.substr(0, eq)));
        if (key.empty()) malformed(file_name, line_number, "an empty key in the nested block");
        // botocore splits a nested line at its first `=` only.
        last->nested[key] = std::string(trim_blanks(line.substr(eq + 1)));
      } else {
        last->value += "\n";
        last->value += line;
      }
      continue;
    }

    if (line[0] == '[') {
      auto close = line.find(']');
      if (close == std::string_view::npos) malformed(file_name, line_number, "a section header without `]`");
      std::string_view after = trim_blanks(line.substr(close + 1));
      if (!after.empty() && after[0] != '#' && after[0] != ';')
        malformed(file_name, line_number, "text after a section header's `]`");
      std::string name(trim_blanks(line.substr(1, close - 1)));
      if (name.empty()) malformed(file_name, line_number, "an empty section name");
      section = &file[name];
      section->name = name;
      last = nullptr;
      continue;
    }

    // configparser's delimiters: the first `=` or `:` ends the key.
    auto eq = line.find_first_of("=:");
    if (eq == std::string_view::npos)
      malformed(file_name, line_number, "expected `[section]`, `key = value` or a comment");
    if (!section) malformed(file_name, line_number, "a `key = value` line before any `[section]`");
    std::string key = ascii_lowercase(trim_blanks(line.substr(0, eq)));
    if (key.empty()) malformed(file_name, line_number, "an empty key");
    IniValue& value = section->values[key];
    value = IniValue{std::string(trim_blanks(line.substr(eq + 1))), std::string(file_name), line_number, {}};
    last = &value;
  }
  return file;
}

std::optional<ProfileSettings> profile_settings(const SharedFiles& files, std::string_view name) {
  ProfileSettings settings;
  bool found = false;
  auto take = [&](const IniSection& section) {
    for (const auto& [key, value] : section.values) settings[key] = value;
    found = true;
  };
  // Config: `[default]`, then `[profile default]` over it; `[profile NAME]`
  // with any run of blanks after "profile".
  if (name == "default")
    if (auto it = files.config.find("default"); it != files.config.end()) take(it->second);
  for (const auto& [section_name, section] : files.config) {
    std::string_view s = section_name;
    if (s.size() > 7 && s.substr(0, 7) == "profile" && is_blank(s[7]) && trim_blanks(s.substr(7)) == name)
      take(section);
  }
  // The credentials file last: its keys win.
  if (auto it = files.credentials.find(std::string(name)); it != files.credentials.end()) take(it->second);
  if (!found) return std::nullopt;
  return settings;
}

namespace {

std::string get(const ProfileSettings& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? "" : it->second.value;
}

bool has(const ProfileSettings& s, const std::string& key) { return !get(s, key).empty(); }

class Resolver {
 public:
  explicit Resolver(const SharedFiles& files) : files_(files) {}

  ProfileSettings settings_of(const std::string& name, const std::string& named_by) {
    auto settings = profile_settings(files_, name);
    if (!settings) {
      std::string message = "AWS profile \"" + name + "\" is in neither the shared credentials nor the config file";
      if (!named_by.empty()) message += " (it is the source_profile of profile \"" + named_by + "\")";
      throw Error::Invalid("aws_profile_not_found", message);
    }
    return *settings;
  }

  // The profile as the one whose credentials are wanted: role_arn first.
  std::optional<CredentialPlan> plan(const std::string& name, const ProfileSettings& s) {
    if (has(s, "role_arn")) return role_plan(name, s);
    reject_unsupported(name, s, /*with_static_keys=*/has(s, "aws_access_key_id"));
    if (has(s, "aws_access_key_id") || has(s, "aws_secret_access_key")) return static_plan(name, s);
    return std::nullopt;
  }

 private:
  // The profile as another's source_profile: its static keys, when it has
  // them, before its own role (as the AWS CLI does).
  CredentialPlan source_plan(const std::string& name, const ProfileSettings& s) {
    if (has(s, "aws_access_key_id") || has(s, "aws_secret_access_key")) return static_plan(name, s);
    auto p = plan(name, s);
    if (!p)
      throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name +
                                                     "\" is used as a source_profile but configures no credentials");
    return *p;
  }

  CredentialPlan role_plan(const std::string& name, const ProfileSettings& s) {
    // The AWS CLI prompts for an MFA code; byoc runs unattended and can't.
    if (has(s, "mfa_serial"))
      throw Error::Invalid("aws_profile_unsupported",
                           "AWS profile \"" + name + "\" assumes its role with MFA (mfa_serial at " +
                               where(s.at("mfa_serial")) + "), which byoc does not support: it can't prompt for a "
                               "code; use a role without an MFA condition, or credentials obtained beforehand");
    RoleStep step{name, get(s, "role_arn"), get(s, "external_id"), get(s, "role_session_name"), duration(name, s)};
    bool by_profile = has(s, "source_profile"), by_source = has(s, "credential_source");
    if (by_profile && by_source)
      throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name +
                                                     "\" sets both source_profile and credential_source; keep one");
    if (by_profile) {
      std::string source = get(s, "source_profile");
      if (source == name) {
        if (!has(s, "aws_access_key_id"))
          throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name +
                                                         "\" is its own source_profile but has no static keys");
        CredentialPlan p = static_plan(name, s);
        p.roles.push_back(std::move(step));
        return p;
      }
      visiting_.push_back(name);
      if (std::find(visiting_.begin(), visiting_.end(), source) != visiting_.end()) {
        std::string cycle;
        for (const auto& v : visiting_) cycle += "\"" + v + "\" → ";
        throw Error::Invalid("aws_config_invalid", "AWS profiles name each other as source_profile in a cycle: " +
                                                       cycle + "\"" + source + "\"");
      }
      CredentialPlan p = source_plan(source, settings_of(source, name));
      visiting_.pop_back();
      p.roles.push_back(std::move(step));
      return p;
    }
    if (by_source) {
      std::string source = get(s, "credential_source");
      CredentialPlan p;
      p.source_profile = name;
      if (source == "Environment") {
        p.origin = CredentialOrigin::kEnvironment;
      } else if (source == "Ec2InstanceMetadata") {
        p.origin = CredentialOrigin::kEc2InstanceMetadata;
      } else if (source == "EcsContainer") {
        p.origin = CredentialOrigin::kEcsContainer;
      } else {
        throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name + "\" (" + where(s.at("credential_source")) +
                                                       "): credential_source must be Environment, "
                                                       "Ec2InstanceMetadata or EcsContainer");
      }
      p.roles.push_back(std::move(step));
      return p;
    }
    if (has(s, "web_identity_token_file")) {
      CredentialPlan p;
      p.source_profile = name;
      p.origin = CredentialOrigin::kWebIdentity;
      p.web_identity = {step.role_arn, get(s, "web_identity_token_file"), step.session_name};
      return p;
    }
    throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name + "\" (" + where(s.at("role_arn")) +
                                                   ") sets role_arn but none of source_profile, credential_source "
                                                   "or web_identity_token_file");
  }

  CredentialPlan static_plan(const std::string& name, const ProfileSettings& s) {
    if (!has(s, "aws_access_key_id") || !has(s, "aws_secret_access_key"))
      throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name +
                                                     "\" must set both aws_access_key_id and aws_secret_access_key");
    CredentialPlan p;
    p.source_profile = name;
    p.origin = CredentialOrigin::kStaticKeys;
    p.keys = {get(s, "aws_access_key_id"), get(s, "aws_secret_access_key"), get(s, "aws_session_token")};
    return p;
  }

  static void reject_unsupported(const std::string& name, const ProfileSettings& s, bool with_static_keys) {
    for (const char* key : {"sso_start_url", "sso_session", "sso_account_id", "sso_role_name"})
      if (has(s, key))
        throw Error::Invalid("aws_profile_unsupported",
                             "AWS profile \"" + name + "\" uses IAM Identity Center (SSO, " + key + " at " +
                                 where(s.at(key)) + "), which byoc does not support; give it static keys, a role "
                                 "to assume, or run byoc with the instance's or pod's role");
    // As the AWS CLI orders them, static keys come before a credential process.
    if (!with_static_keys && has(s, "credential_process"))
      throw Error::Invalid("aws_profile_unsupported",
                           "AWS profile \"" + name + "\" uses credential_process (" +
                               where(s.at("credential_process")) + "), which byoc does not support");
  }

  static std::chrono::seconds duration(const std::string& name, const ProfileSettings& s) {
    auto it = s.find("duration_seconds");
    if (it == s.end() || it->second.value.empty()) return std::chrono::seconds(3600);
    const std::string& text = it->second.value;
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    // STS accepts 15 minutes to 12 hours (the role's own maximum may be lower).
    if (ec != std::errc() || ptr != text.data() + text.size() || seconds < 900 || seconds > 43200)
      throw Error::Invalid("aws_config_invalid", "AWS profile \"" + name + "\" (" + where(it->second) +
                                                     "): duration_seconds must be a whole number from 900 to 43200");
    return std::chrono::seconds(seconds);
  }

  const SharedFiles& files_;
  std::vector<std::string> visiting_;
};

}  // namespace

ResolvedProfile resolve_profile(const SharedFiles& files, std::string_view name) {
  Resolver resolver(files);
  std::string profile(name);
  ProfileSettings settings = resolver.settings_of(profile, "");
  ResolvedProfile resolved;
  resolved.name = profile;
  resolved.region = get(settings, "region");
  resolved.credentials = resolver.plan(profile, settings);
  return resolved;
}

}  // namespace byoc::aws
