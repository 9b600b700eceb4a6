#include "agent/versions.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/files.h"

namespace byoc::agent {
namespace {

using nlohmann::json;

Error invalid(const std::string& field, const std::string& what) {
  return Error::Invalid("invalid_versions", field + " " + what, field);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

bool is_token(const std::string& s, size_t max) {
  if (s.empty() || s.size() > max || !std::isalnum(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s)
    if (!is_name_char(c)) return false;
  return true;
}

// Absolute, no '.'/'..' component, nothing a config file or argv would need to quote.
bool is_safe_absolute_path(const std::string& p) {
  if (p.size() < 2 || p.size() > 4096 || p.front() != '/' || p.back() == '/') return false;
  for (char c : p)
    if (!(is_name_char(c) || c == '/' || c == '+')) return false;
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

// "registry/path[:tag]@sha256:<64 lowercase hex>"
bool is_digest_image(const std::string& image) {
  auto at = image.find("@sha256:");
  if (at == std::string::npos || at == 0 || image.size() != at + 8 + 64) return false;
  for (size_t i = at + 8; i < image.size(); ++i) {
    char c = image[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  for (size_t i = 0; i < at; ++i) {
    char c = image[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/' ||
          c == ':'))
      return false;
  }
  return true;
}

std::string string_field(const json& value, const std::string& field) {
  if (!value.is_string()) throw invalid(field, "must be a string");
  return value.get<std::string>();
}

ClickHouseVersion parse_entry(const json& entry, const std::string& field) {
  if (!entry.is_object()) throw invalid(field, "must be an object");
  ClickHouseVersion v;
  for (const auto& [key, value] : entry.items()) {
    const std::string f = field + "." + key;
    if (key == "binary") {
      v.binary = string_field(value, f);
      if (!is_safe_absolute_path(v.binary))
        throw invalid(f, "must be an absolute path of [A-Za-z0-9._+-/] without . or .. parts");
    } else if (key == "image") {
      v.image = string_field(value, f);
      if (!is_digest_image(v.image)) throw invalid(f, "must name an image by digest (repo@sha256:<64 hex>)");
    } else if (key == "config_revision") {
      v.config_revision = string_field(value, f);
      if (!is_token(v.config_revision, 32)) throw invalid(f, "must be 1-32 of [A-Za-z0-9._-], starting alphanumeric");
    } else {
      throw invalid(f, "is not a known field (binary, image, config_revision)");
    }
  }
  // One entry may serve both runtimes: the local one runs `binary`, Kubernetes `image`.
  if (v.binary.empty() && v.image.empty()) throw invalid(field, "must have a binary, an image or both");
  return v;
}

}  // namespace

const ClickHouseVersion* VersionList::find(const std::string& name) const {
  auto it = clickhouse.find(name);
  return it == clickhouse.end() ? nullptr : &it->second;
}

VersionList default_versions() {
  VersionList list;
  list.clickhouse[kDefaultClickHouseVersion] = ClickHouseVersion{"/usr/sbin/clickhouse-server", "", ""};
  return list;
}

VersionList parse_versions(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error::Invalid("invalid_versions", "the versions list is not JSON", "");
  if (!j.is_object()) throw Error::Invalid("invalid_versions", "the versions list must be a JSON object", "");
  VersionList list;
  for (const auto& [key, value] : j.items())
    if (key != "clickhouse") throw invalid(key, "is not a known field (clickhouse)");
  auto it = j.find("clickhouse");
  if (it == j.end()) throw invalid("clickhouse", "is required");
  if (!it->is_object() || it->empty()) throw invalid("clickhouse", "must be a non-empty object of versions");
  for (const auto& [name, entry] : it->items()) {
    const std::string field = "clickhouse." + name;
    if (!is_token(name, 64)) throw invalid(field, "is not a version name (1-64 of [A-Za-z0-9._-], starting alphanumeric)");
    list.clickhouse[name] = parse_entry(entry, field);
  }
  return list;
}

VersionList load_versions(const std::filesystem::path& file) {
  auto text = files::read_if_exists(file);
  if (!text) return default_versions();
  try {
    return parse_versions(*text);
  } catch (const Error& e) {
    throw Error::Invalid(e.code(), file.string() + ": " + e.what(), e.field());
  }
}

}  // namespace byoc::agent
