// The parts every protocol shares: the dispatch, parameter checks, shapes
// seen through references, timestamps and scalar text forms.
#include "cloud/aws/protocol.h"

#include <strings.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>

#include "base/crypto.h"
#include "base/error.h"
#include "base/scan.h"
#include "base/utf8.h"
#include "cloud/aws/protocol_internal.h"

namespace byoc::aws {

std::optional<std::string> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers)
    if (detail::iequals(key, name)) return value;
  return std::nullopt;
}

namespace detail {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string printable_utf8(std::string_view bytes, size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::string out;
  size_t i = 0;
  while (i < bytes.size()) {
    auto b = static_cast<unsigned char>(bytes[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    std::string_view piece = kReplacement;
    if (len > 0 && i + len <= bytes.size() && utf8::valid(bytes.substr(i, len))) piece = bytes.substr(i, len);
    else len = 1;
    if (out.size() + piece.size() > max_bytes) break;  // whole characters only
    out += piece;
    i += len;
  }
  return out;
}

Shape::Shape(const ServiceModel& model, const json& ref)
    : model_(&model), ref_(&ref), name_(ref.at("shape").get<std::string>()) {
  def_ = &model.shape(name_);
}

const std::string& Shape::type() const { return def_->at("type").get_ref<const std::string&>(); }

const json* Shape::trait(std::string_view key) const {
  const std::string k(key);
  if (auto it = ref_->find(k); it != ref_->end()) return &*it;
  if (auto it = def_->find(k); it != def_->end()) return &*it;
  return nullptr;
}

std::string Shape::text(std::string_view key, std::string_view fallback) const {
  const json* v = trait(key);
  return v && v->is_string() ? v->get<std::string>() : std::string(fallback);
}

bool Shape::flag(std::string_view key) const {
  const json* v = trait(key);
  return v && v->is_boolean() && v->get<bool>();
}

const json& Shape::members() const {
  static const json kNone = json::object();
  auto it = def_->find("members");
  return it == def_->end() ? kNone : *it;
}

std::optional<Shape> input_shape(const ServiceModel& model, const json& operation) {
  if (!operation.contains("input")) return std::nullopt;
  return Shape(model, operation["input"]);
}

std::optional<Shape> output_shape(const ServiceModel& model, const json& operation) {
  if (!operation.contains("output")) return std::nullopt;
  return Shape(model, operation["output"]);
}

// ---- timestamps ----

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Years 1-9999, as unix_from_civil() (and Python's datetime, botocore's) take.
constexpr int64_t kMinEpoch = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxEpoch = 253402300799;  // 9999-12-31T23:59:59Z

bool in_range(const Instant& t) { return t.seconds >= kMinEpoch && t.seconds <= kMaxEpoch; }

// Epoch seconds, range-checked before any cast.
std::optional<Instant> epoch_instant(double v) {
  if (!std::isfinite(v) || v < static_cast<double>(kMinEpoch) || v >= static_cast<double>(kMaxEpoch) + 1)
    return std::nullopt;
  double whole = std::floor(v);
  auto micros = static_cast<int64_t>(std::llround((v - whole) * 1e6));
  auto seconds = static_cast<int64_t>(whole);
  if (micros >= 1000000) seconds += 1, micros -= 1000000;
  return Instant{seconds, static_cast<int32_t>(micros)};
}

std::optional<Instant> parse_epoch(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return epoch_instant(v);
}

std::optional<Instant> parse_iso(std::string_view s) {
  auto t = parse_iso8601(s);
  if (!t || !in_range(*t)) return std::nullopt;
  return t;
}

// RFC 7231 IMF-fixdate, "Tue, 29 Apr 2014 18:30:38 GMT" (the weekday optional).
std::optional<Instant> parse_http_date(std::string_view s) {
  if (auto comma = s.find(','); comma != std::string_view::npos) s = trim(s.substr(comma + 1));
  size_t pos = 0;
  int day, year, hour, minute, second;
  if (!scan::digits(s, pos, 2, day) && !(pos = 0, scan::digits(s, pos, 1, day))) return std::nullopt;
  if (!scan::literal(s, pos, ' ') || pos + 3 > s.size()) return std::nullopt;
  int month = 0;
  for (int i = 0; i < 12; ++i)
    if (iequals(s.substr(pos, 3), kMonths[i])) month = i + 1;
  pos += 3;
  if (month == 0 || !scan::literal(s, pos, ' ') || !scan::digits(s, pos, 4, year) || !scan::literal(s, pos, ' ') ||
      !scan::digits(s, pos, 2, hour) || !scan::literal(s, pos, ':') || !scan::digits(s, pos, 2, minute) || !scan::literal(s, pos, ':') ||
      !scan::digits(s, pos, 2, second))
    return std::nullopt;
  int32_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    for (int32_t scale = 100000; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10)
      micros += (s[pos] - '0') * scale;
  }
  std::string_view zone = trim(s.substr(pos));
  if (!zone.empty() && zone != "GMT" && zone != "UTC" && zone != "Z" && zone != "+0000") return std::nullopt;
  auto seconds = unix_from_civil(year, month, day, hour, minute, second);
  if (!seconds) return std::nullopt;
  return Instant{*seconds, micros};
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<Instant> parse_timestamp(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  if (auto t = parse_epoch(text)) return t;
  if (auto t = parse_iso(text)) return t;
  return parse_http_date(text);
}

std::optional<Instant> json_timestamp(const json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kMaxEpoch)) return std::nullopt;
    Instant t{value.get<int64_t>(), 0};
    if (!in_range(t)) return std::nullopt;
    return t;
  }
  if (value.is_number_float()) return epoch_instant(value.get<double>());
  return std::nullopt;
}

Instant timestamp_param(const json& value, const std::string& path) {
  if (auto t = json_timestamp(value)) return *t;
  if (value.is_string()) {
    std::string_view s = trim(value.get_ref<const std::string&>());
    if (auto t = parse_epoch(s)) return *t;
    if (auto t = parse_iso(s)) return *t;
  }
  throw Error::Invalid("invalid_parameter",
                       path + ": expected a timestamp (epoch seconds or ISO 8601 with an offset, years 1-9999)", path);
}

std::string format_timestamp(Instant t, std::string_view format) {
  if (iequals(format, "unixTimestamp")) return std::to_string(t.seconds);  // whole seconds, as botocore sends
  std::time_t seconds = static_cast<std::time_t>(t.seconds);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  if (iequals(format, "rfc822")) {
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
  }
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (t.micros > 0) n += std::snprintf(buf + n, sizeof buf - n, ".%06d", t.micros);
  std::snprintf(buf + n, sizeof buf - n, "Z");
  return buf;
}

json instant_json(Instant t) {
  if (t.micros == 0) return json(t.seconds);
  return json(static_cast<double>(t.seconds) + t.micros / 1e6);
}

// ---- text forms ----

std::string scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return value.dump();  // numbers: shortest form that reads back the same
}

std::string to_base64(std::string_view bytes) { return crypto::base64(bytes); }

std::optional<std::string> from_base64(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
  return crypto::base64_decode(compact);
}

namespace {

bool is_special_float(const json& v) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return s == "NaN" || s == "Infinity" || s == "-Infinity";
}

std::optional<json> float_from_text(std::string_view text) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return json(std::string(text));
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, std::chars_format::general);
  // from_chars also reads "inf" and "nan": only the three spellings above stand for those.
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return json(v);
}

// The range of an integer shape's values: Smithy's byte, short, integer, long.
bool integer_fits(const std::string& type, const json& v) {
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return false;
  const int64_t n = v.get<int64_t>();
  if (type == "byte") return n >= INT8_MIN && n <= INT8_MAX;
  if (type == "short") return n >= INT16_MIN && n <= INT16_MAX;
  if (type == "integer") return n >= INT32_MIN && n <= INT32_MAX;
  return true;  // long: any int64
}

}  // namespace

std::optional<json> scalar_from_text(const Shape& shape, std::string_view raw) {
  const std::string& type = shape.type();
  if (type == "string") {
    if (!utf8::valid(raw)) return std::nullopt;
    return json(std::string(raw));
  }
  std::string_view text = trim(raw);
  if (type == "integer" || type == "long" || type == "short" || type == "byte") {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return json(v);  // any int64: an answer's integer is taken as wide as it comes
  }
  if (type == "float" || type == "double") return float_from_text(text);
  if (type == "boolean") {
    if (iequals(text, "true")) return json(true);
    if (iequals(text, "false")) return json(false);
    return std::nullopt;
  }
  if (type == "timestamp") {
    auto t = parse_timestamp(text);
    if (!t) return std::nullopt;
    return instant_json(*t);
  }
  if (type == "blob") {
    auto bytes = from_base64(text);
    if (!bytes) return std::nullopt;
    return json(*bytes);
  }
  if (!utf8::valid(raw)) return std::nullopt;
  return json(std::string(raw));
}

// ---- parameters ----

namespace {

std::string join_path(const std::string& path, const std::string& member) {
  return path.empty() ? member : path + "." + member;
}

[[noreturn]] void wrong_type(const std::string& path, const std::string& expected) {
  throw Error::Invalid("invalid_parameter", (path.empty() ? std::string("parameters") : path) + ": expected " + expected,
                       path);
}

std::string uuid_v4() {
  std::string b = crypto::random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = crypto::hex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace

void check_params(const Shape& shape, const json& value, const std::string& path) {
  const std::string& type = shape.type();
  if (type == "structure") {
    if (shape.is_document()) return;
    if (!value.is_object()) wrong_type(path, "an object");
    const json& members = shape.members();
    int set = 0;
    for (const auto& [key, member_value] : value.items()) {
      const std::string member_path = join_path(path, key);
      if (!members.contains(key)) throw Error::Invalid("invalid_parameter", member_path + ": unknown member", member_path);
      if (member_value.is_null()) continue;
      ++set;
      check_params(shape.member(key), member_value, member_path);
    }
    if (shape.is_union() && set > 1) wrong_type(path, "exactly one member (a union)");
    if (auto required = shape.definition().find("required"); required != shape.definition().end()) {
      for (const auto& name : *required) {
        const std::string n = name.get<std::string>();
        auto it = value.find(n);
        if (it == value.end() || it->is_null())
          throw Error::Invalid("invalid_parameter", join_path(path, n) + ": required", join_path(path, n));
      }
    }
  } else if (type == "list") {
    if (!value.is_array()) wrong_type(path, "a list");
    Shape member = shape.list_member();
    // A null item has no wire form (botocore rejects it too).
    for (size_t i = 0; i < value.size(); ++i) check_params(member, value[i], path + "[" + std::to_string(i) + "]");
  } else if (type == "map") {
    if (!value.is_object()) wrong_type(path, "an object (a map)");
    Shape map_value = shape.map_value();
    for (const auto& [key, v] : value.items()) check_params(map_value, v, join_path(path, key));
  } else if (type == "string") {
    if (!value.is_string() && !shape.flag("jsonvalue")) wrong_type(path, "a string");
  } else if (type == "integer" || type == "long" || type == "short" || type == "byte") {
    if (!value.is_number_integer()) wrong_type(path, "an integer");
    if (!integer_fits(type, value)) wrong_type(path, "an integer in the range of a " + type);
  } else if (type == "float" || type == "double") {
    if (!value.is_number() && !is_special_float(value)) wrong_type(path, "a number");
    if (value.is_number_float() && !std::isfinite(value.get<double>()))
      wrong_type(path, "a finite number (or \"NaN\", \"Infinity\", \"-Infinity\")");
  } else if (type == "boolean") {
    if (!value.is_boolean()) wrong_type(path, "true or false");
  } else if (type == "timestamp") {
    timestamp_param(value, path);
  } else if (type == "blob") {
    if (!value.is_string()) wrong_type(path, "a string of bytes");
  }
}

json prepared_params(const Shape& input, const json& params, const SerializeOptions& options) {
  json out = json::object();
  for (const auto& [key, value] : params.items())
    if (!value.is_null()) out[key] = value;
  for (const auto& [name, ref] : input.members().items()) {
    if (out.contains(name) || !Shape(input.model(), ref).flag("idempotencyToken")) continue;
    out[name] = options.idempotency_token ? options.idempotency_token() : uuid_v4();
  }
  return out;
}

std::string host_prefix(const json& operation, const json& params) {
  auto endpoint = operation.find("endpoint");
  if (endpoint == operation.end() || !endpoint->contains("hostPrefix")) return "";
  const std::string pattern = (*endpoint)["hostPrefix"].get<std::string>();
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out.push_back(pattern[i]);
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string::npos) break;
    const std::string label = pattern.substr(i + 1, close - i - 1);
    auto it = params.find(label);
    if (it == params.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
      throw Error::Invalid("invalid_parameter", label + ": required for the endpoint host", label);
    // The value becomes part of a host name: letters, digits, '-' and '.' only.
    for (char c : it->get_ref<const std::string&>())
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.')
        throw Error::Invalid("invalid_parameter", label + ": may hold only letters, digits, '-' and '.'", label);
    out += it->get<std::string>();
    i = close;
  }
  return out;
}

// ---- errors ----

std::string sanitize_error_code(std::string_view code) {
  code = trim(code);
  if (auto colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  if (auto hash = code.rfind('#'); hash != std::string_view::npos) code = code.substr(hash + 1);
  return std::string(code);
}

std::optional<Shape> error_shape(const ServiceModel& model, const json& operation, std::string_view code) {
  auto errors = operation.find("errors");
  if (errors == operation.end() || code.empty()) return std::nullopt;
  for (const auto& ref : *errors) {
    Shape shape(model, ref);
    if (shape.name() == code) return shape;
    const json& def = shape.definition();
    if (auto e = def.find("error"); e != def.end() && e->is_object() && e->value("code", "") == code) return shape;
  }
  return std::nullopt;
}

}  // namespace detail

HttpRequest serialize_request(const ServiceModel& model, std::string_view operation, const nlohmann::json& params,
                              const SerializeOptions& options) {
  using namespace detail;
  const json& op = model.operation(operation);
  if (!params.is_null() && !params.is_object()) throw Error::Invalid("invalid_parameter", "parameters: expected an object");
  json prepared = json::object();
  if (auto input = input_shape(model, op)) {
    prepared = prepared_params(*input, params.is_null() ? json::object() : params, options);
    check_params(*input, prepared, "");
  } else if (!params.is_null()) {
    for (const auto& [key, value] : params.items())
      if (!value.is_null()) throw Error::Invalid("invalid_parameter", key + ": unknown member", key);
  }
  const std::string& protocol = model.protocol();
  HttpRequest request;
  if (protocol == "query" || protocol == "ec2") {
    request = serialize_query(model, op, prepared, protocol == "ec2");
  } else if (protocol == "json") {
    request = serialize_json(model, op, prepared);
  } else if (protocol == "rest-json") {
    request = serialize_rest_json(model, op, prepared);
  } else {
    throw Error::Invalid("unsupported_protocol", "protocol '" + protocol + "' is not supported");
  }
  request.host_prefix = host_prefix(op, prepared);
  return request;
}

ParsedResponse parse_response(const ServiceModel& model, std::string_view operation, const HttpResponse& response) {
  using namespace detail;
  const json& op = model.operation(operation);
  const std::string& protocol = model.protocol();
  if (protocol == "query" || protocol == "ec2") return parse_query(model, op, response, protocol == "ec2");
  if (protocol == "json") return parse_json(model, op, response);
  if (protocol == "rest-json") return parse_rest_json(model, op, response);
  throw Error::Invalid("unsupported_protocol", "protocol '" + protocol + "' is not supported");
}

}  // namespace byoc::aws
