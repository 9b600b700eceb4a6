#include "plan/catalogue.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "base/error.h"

namespace byoc::plan {

std::string_view embedded_catalogue_csv();  // generated from data/instance-catalog.csv

std::string InstanceType::family() const { return name.substr(0, name.find('.')); }

std::string InstanceType::size() const {
  auto dot = name.find('.');
  return dot == std::string::npos ? std::string() : name.substr(dot + 1);
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                             : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

Error bad(int line, const std::string& column, const std::string& why) {
  return Error::Invalid("bad_catalogue", "instance catalogue line " + std::to_string(line) + ", column " + column +
                                             ": " + why,
                        "line " + std::to_string(line));
}

int64_t parse_int(std::string_view text, int line, const std::string& column) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    throw bad(line, column, "expected a non-negative integer, got '" + std::string(text) + "'");
  }
  return value;
}

double parse_number(std::string_view text, int line, const std::string& column) {
  // std::from_chars for double is available in g++ 12.
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) {
    throw bad(line, column, "expected a non-negative number, got '" + std::string(text) + "'");
  }
  return value;
}

}  // namespace

Catalogue::Catalogue(std::vector<InstanceType> types) : types_(std::move(types)) {}

Catalogue Catalogue::parse_csv(std::string_view text) {
  static const char* kColumns[] = {"type", "vcpu", "memory_gib", "local_nvme_gb", "enis", "ipv4_per_eni",
                                   "price_usd_per_hour_us_east_1"};
  std::map<std::string, size_t> index;
  std::vector<InstanceType> types;
  std::set<std::string> seen;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    auto fields = split_fields(line);
    if (index.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) index[std::string(fields[i])] = i;
      for (const char* column : kColumns) {
        if (!index.count(column)) throw bad(line_no, column, "missing from the header");
      }
      continue;
    }
    auto field = [&](const char* column) {
      size_t i = index.at(column);
      if (i >= fields.size()) throw bad(line_no, column, "missing");
      return fields[i];
    };
    InstanceType t;
    t.name = std::string(field("type"));
    if (t.name.empty() || t.name.find('.') == std::string::npos) {
      throw bad(line_no, "type", "expected family.size, got '" + t.name + "'");
    }
    if (!seen.insert(t.name).second) throw bad(line_no, "type", "duplicate type " + t.name);
    t.vcpu = static_cast<int>(parse_int(field("vcpu"), line_no, "vcpu"));
    double gib = parse_number(field("memory_gib"), line_no, "memory_gib");
    t.memory_mib = static_cast<int64_t>(std::llround(gib * 1024));
    t.local_nvme_gb = parse_int(field("local_nvme_gb"), line_no, "local_nvme_gb");
    t.enis = static_cast<int>(parse_int(field("enis"), line_no, "enis"));
    t.ipv4_per_eni = static_cast<int>(parse_int(field("ipv4_per_eni"), line_no, "ipv4_per_eni"));
    t.price_per_hour = parse_number(field("price_usd_per_hour_us_east_1"), line_no, "price_usd_per_hour_us_east_1");
    if (t.vcpu < 1) throw bad(line_no, "vcpu", "must be at least 1");
    if (t.memory_mib < 1) throw bad(line_no, "memory_gib", "must be positive");
    if (t.enis < 1) throw bad(line_no, "enis", "must be at least 1");
    if (t.ipv4_per_eni < 2) throw bad(line_no, "ipv4_per_eni", "must be at least 2");
    if (t.price_per_hour <= 0) throw bad(line_no, "price_usd_per_hour_us_east_1", "must be positive");
    types.push_back(std::move(t));
  }
  if (index.empty()) throw bad(1, "type", "the catalogue is empty");
  if (types.empty()) throw bad(line_no, "type", "the catalogue has no instance types");
  return Catalogue(std::move(types));
}

const Catalogue& Catalogue::builtin() {
  static const Catalogue catalogue = parse_csv(embedded_catalogue_csv());
  return catalogue;
}

const InstanceType* Catalogue::find(std::string_view name) const {
  for (const auto& t : types_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace byoc::plan
