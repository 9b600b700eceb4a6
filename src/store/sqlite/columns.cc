#include "store/sqlite/columns.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

namespace byoc::store::sqlite {
namespace {
using nlohmann::json;

// Reads the compact JSON nlohmann::json::dump() writes; any surprise (an
// escape, whitespace, another key order) makes the caller fall back.
class CompactReader {
 public:
  explicit CompactReader(std::string_view text) : text_(text) {}

  bool done() const { return pos_ == text_.size(); }

  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  bool consume(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  // A string without escapes or control characters (UTF-8 is kept as is).
  std::optional<std::string> string() {
    if (!consume('"')) return std::nullopt;
    size_t start = pos_;
    for (; pos_ < text_.size(); ++pos_) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') return std::string(text_.substr(start, pos_++ - start));
      if (c == '\\' || c < 0x20) return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<int64_t> integer() {
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), value);
    if (ec != std::errc() || end == text_.data() + pos_) return std::nullopt;
    pos_ = static_cast<size_t>(end - text_.data());
    return value;
  }

  std::optional<bool> boolean() {
    if (consume("true")) return true;
    if (consume("false")) return false;
    return std::nullopt;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Parses "[item,item,...]" with `item` reading one element into `out`.
template <typename T, typename ReadItem>
bool read_array(CompactReader& in, std::vector<T>* out, ReadItem item) {
  if (!in.consume('[')) return false;
  if (in.consume(']')) return in.done();
  do {
    if (!item(in, out)) return false;
  } while (in.consume(','));
  return in.consume(']') && in.done();
}

std::optional<std::vector<std::string>> fast_string_array(std::string_view text) {
  CompactReader in(text);
  std::vector<std::string> out;
  bool ok = read_array(in, &out, [](CompactReader& r, std::vector<std::string>* values) {
    auto s = r.string();
    if (s) values->push_back(std::move(*s));
    return s.has_value();
  });
  if (!ok) return std::nullopt;
  return out;
}

// nlohmann::json objects keep their keys sorted: reason, status, t, type.
std::optional<std::vector<model::Condition>> fast_conditions(std::string_view text) {
  CompactReader in(text);
  std::vector<model::Condition> out;
  bool ok = read_array(in, &out, [](CompactReader& r, std::vector<model::Condition>* conditions) {
    if (!r.consume("{\"reason\":")) return false;
    auto reason = r.string();
    if (!reason || !r.consume(",\"status\":")) return false;
    auto status = r.boolean();
    if (!status || !r.consume(",\"t\":")) return false;
    auto t = r.integer();
    if (!t || !r.consume(",\"type\":")) return false;
    auto type = r.string();
    if (!type || !r.consume('}')) return false;
    conditions->push_back({std::move(*type), *status, std::move(*reason), *t});
    return true;
  });
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::string string_array_column(const std::vector<std::string>& values) { return json(values).dump(); }

std::vector<std::string> parse_string_array_column(std::string_view text) {
  if (auto fast = fast_string_array(text)) return std::move(*fast);
  return json::parse(text).get<std::vector<std::string>>();
}

std::string conditions_column(const std::vector<model::Condition>& conditions) {
  json out = json::array();
  for (const auto& c : conditions)
    out.push_back({{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"t", c.last_transition_time}});
  return out.dump();
}

std::vector<model::Condition> parse_conditions_column(std::string_view text) {
  if (auto fast = fast_conditions(text)) return std::move(*fast);
  std::vector<model::Condition> out;
  for (const auto& c : json::parse(text))
    out.push_back({c.at("type"), c.at("status"), c.at("reason"), c.at("t")});
  return out;
}

}  // namespace byoc::store::sqlite
