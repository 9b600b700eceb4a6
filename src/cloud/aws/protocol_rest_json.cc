// The rest-json protocol (EKS): members bound to the URI, the query string
// and headers by their `location`, the rest (or the `payload` member) as the
// body.
#include <cctype>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/utf8.h"
#include "cloud/aws/protocol_internal.h"
#include "cloud/aws/sigv4.h"

namespace byoc::aws::detail {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

std::string text_at(const Shape& shape, const json& value, std::string_view default_time_format) {
  if (shape.type() == "timestamp")
    return format_timestamp(timestamp_param(value, shape.name()), shape.text("timestampFormat", default_time_format));
  return scalar_text(value);
}

// A list header's item: quoted when it holds a comma or a quote (RFC 7230).
std::string header_item(const Shape& item, const json& value) {
  std::string text = text_at(item, value, "rfc822");
  if (item.type() == "timestamp" || text.find_first_of(",\"") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string header_text(const Shape& shape, const json& value) {
  if (shape.type() == "list") {
    Shape item = shape.list_member();
    std::string out;
    for (const auto& v : value) {
      if (v.is_null()) continue;
      if (!out.empty()) out += ", ";
      out += header_item(item, v);
    }
    return out;
  }
  // A JSON value travels base64-encoded; callers pass its text (or JSON).
  if (shape.flag("jsonvalue")) return to_base64(value.is_string() ? value.get<std::string>() : json_text(value));
  return text_at(shape, value, "rfc822");
}

// A header as serialized: CR, LF or NUL in a value (or a name that is not an
// RFC 9110 token) would forge or break header lines.
void check_header(const std::string& name, const std::string& value, const std::string& path) {
  static constexpr std::string_view kTokenExtras = "!#$%&'*+-.^_`|~";
  if (name.empty()) throw Error::Invalid("invalid_parameter", path + ": an empty header name", path);
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && kTokenExtras.find(c) == std::string_view::npos)
      throw Error::Invalid("invalid_parameter", path + ": header name '" + printable_utf8(name, 64) + "' is not a token",
                           path);
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    throw Error::Invalid("invalid_parameter", path + ": a header value may not hold CR, LF or NUL", path);
}

// A URI label's value: "", "." and ".." would change the path's meaning
// (dropped or resolved away by whatever normalizes it); so would "." and ".."
// segments of a greedy label's value.
void check_label(const std::string& value, bool greedy, const std::string& member) {
  auto dot_segment = [](std::string_view s) { return s == "." || s == ".."; };
  bool bad = value.empty() || dot_segment(value);
  if (greedy && !bad) {
    size_t start = 0;
    while (!bad) {
      size_t slash = value.find('/', start);
      bad = dot_segment(std::string_view(value).substr(start, slash == std::string::npos ? std::string::npos : slash - start));
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
  }
  if (bad)
    throw Error::Invalid("invalid_parameter",
                         member + ": a path label may not be empty, \".\" or \"..\"" +
                             (greedy ? std::string(" (nor hold such a segment)") : std::string()),
                         member);
}

struct Label {
  std::string member;  // the parameter it comes from
  std::string text;
};

struct Partitioned {
  std::map<std::string, Label> labels;
  Pairs query;       // members bound to query names, in order
  Pairs query_maps;  // entries of map members bound to the query string
  Headers headers;
  json body = json::object();
};

void add_query(Pairs& out, const std::string& name, const Shape& shape, const json& value) {
  if (shape.type() == "list") {
    Shape item = shape.list_member();
    for (const auto& v : value)
      if (!v.is_null()) out.emplace_back(name, text_at(item, v, "iso8601"));
    return;
  }
  out.emplace_back(name, text_at(shape, value, "iso8601"));
}

Partitioned partition(const Shape& input, const json& params) {
  Partitioned p;
  for (const auto& [name, value] : params.items()) {
    Shape member = input.member(name);
    const std::string location = member.text("location");
    const std::string key = member.text("locationName", name);
    if (location == "uri") {
      p.labels[key] = Label{name, text_at(member, value, "iso8601")};
    } else if (location == "querystring") {
      if (member.type() == "map") {
        Shape map_value = member.map_value();
        for (const auto& [k, v] : value.items())
          if (!v.is_null()) add_query(p.query_maps, k, map_value, v);
      } else {
        add_query(p.query, key, member, value);
      }
    } else if (location == "header") {
      p.headers.emplace_back(key, header_text(member, value));  // an empty list too, as ""
      check_header(p.headers.back().first, p.headers.back().second, name);
    } else if (location == "headers") {
      for (const auto& [k, v] : value.items()) {
        if (v.is_null()) continue;
        p.headers.emplace_back(key + k, scalar_text(v));
        check_header(p.headers.back().first, p.headers.back().second, name + "." + k);
      }
    } else if (location.empty()) {
      p.body[name] = value;
    }
  }
  return p;
}

std::string render_path(const std::string& request_uri, const std::map<std::string, Label>& labels) {
  std::string out;
  for (size_t i = 0; i < request_uri.size(); ++i) {
    if (request_uri[i] != '{') {
      out += request_uri[i];
      continue;
    }
    size_t close = request_uri.find('}', i);
    if (close == std::string::npos) {
      out += request_uri.substr(i);
      break;
    }
    std::string label = request_uri.substr(i + 1, close - i - 1);
    const bool greedy = !label.empty() && label.back() == '+';
    if (greedy) label.pop_back();
    auto it = labels.find(label);
    if (it == labels.end()) throw Error::Invalid("invalid_parameter", label + ": required in the request path", label);
    check_label(it->second.text, greedy, it->second.member);
    out += uri_encode(it->second.text, greedy);
    i = close;
  }
  return out;
}

// Named query members win over same-named entries of a query map.
std::string render_query(const Partitioned& p) {
  std::set<std::string> named;
  std::string out;
  auto append = [&out](const std::string& k, const std::string& v) {
    if (!out.empty()) out += '&';
    out += uri_encode(k, false) + "=" + uri_encode(v, false);
  };
  for (const auto& [k, v] : p.query) {
    named.insert(k);
    append(k, v);
  }
  for (const auto& [k, v] : p.query_maps)
    if (!named.count(k)) append(k, v);
  return out;
}

bool has_body_members(const Shape& input) {
  for (const auto& [name, ref] : input.members().items())
    if (!Shape(input.model(), ref).trait("location")) return true;
  return false;
}

// ---- answers ----

// "a, \"b,c\", d" -> a | b,c | d
std::vector<std::string> split_header_list(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::string item;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i];
      }
      size_t comma = text.find(',', i);
      i = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    } else {
      size_t comma = text.find(',', i);
      std::string_view raw = text.substr(i, comma == std::string_view::npos ? std::string_view::npos : comma - i);
      item = trim(raw);
      i = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    }
    out.push_back(std::move(item));
  }
  return out;
}

json scalar_header(const Shape& shape, const std::string& text, const std::string& path) {
  if (shape.flag("jsonvalue")) {
    auto decoded = from_base64(text);
    if (!decoded || !utf8::valid(*decoded)) misfit(path, "base64 of UTF-8 text (a header)");
    return *decoded;
  }
  auto v = scalar_from_text(shape, text);
  if (!v) misfit(path, "a " + shape.type() + " (a header)");
  return *v;
}

json header_member(const Shape& shape, const std::string& text, const std::string& path) {
  if (shape.type() != "list") return scalar_header(shape, text, path);
  Shape item = shape.list_member();
  std::vector<std::string> items = split_header_list(text);
  // An HTTP date holds a comma itself: its list splits at every second one.
  if (item.type() == "timestamp" && iequals(item.text("timestampFormat", "rfc822"), "rfc822")) {
    std::vector<std::string> dates;
    for (size_t i = 0; i + 1 < items.size(); i += 2) dates.push_back(items[i] + "," + items[i + 1]);
    items = std::move(dates);
  }
  json out = json::array();
  for (size_t i = 0; i < items.size(); ++i)
    out.push_back(scalar_header(item, items[i], path + "[" + std::to_string(i) + "]"));
  return out;
}

// Members bound to the status, headers and the payload or body.
json read_output(const Shape& shape, const HttpResponse& response) {
  json out = json::object();
  for (const auto& [name, ref] : shape.members().items()) {
    Shape member(shape.model(), ref);
    const std::string location = member.text("location");
    const std::string key = member.text("locationName", name);
    if (location == "statusCode") {
      out[name] = response.status;
    } else if (location == "header") {
      if (auto text = find_header(response.headers, key)) out[name] = header_member(member, *text, name);
    } else if (location == "headers") {
      json map = json::object();
      for (const auto& [k, v] : response.headers) {
        if (k.size() < key.size() || !iequals(std::string_view(k).substr(0, key.size()), key)) continue;
        if (!utf8::valid(k) || !utf8::valid(v)) misfit(name + "." + printable_utf8(k, 64), "UTF-8 text (a header)");
        map[k.substr(key.size())] = v;
      }
      if (!map.empty()) out[name] = std::move(map);
    }
  }
  const json& def = shape.definition();
  if (auto payload = def.find("payload"); payload != def.end()) {
    const std::string name = payload->get<std::string>();
    Shape member = shape.member(name);
    if (member.type() == "blob" || member.type() == "string") {
      // A blob is raw bytes; a string payload must be text.
      if (member.type() == "string" && !utf8::valid(response.body)) misfit(name, "UTF-8 text");
      if (!response.body.empty()) out[name] = response.body;
      return out;
    }
    const std::optional<json> body = parse_json_body(response.body);
    if (!body) throw Error::Unavailable("AWS answer is not JSON");
    const bool empty = response.body.find_first_not_of(" \t\r\n") == std::string::npos;
    if (!empty) out[name] = from_wire_json(member, *body, name);
    return out;
  }
  const std::optional<json> body = parse_json_body(response.body);
  if (!body) throw Error::Unavailable("AWS answer is not JSON");
  out.update(from_wire_json(shape, *body));
  return out;
}

}  // namespace

HttpRequest serialize_rest_json(const ServiceModel& model, const json& operation, const json& params) {
  const json http = operation.value("http", json::object());
  HttpRequest request;
  request.method = http.value("method", "POST");
  const std::string request_uri = http.value("requestUri", "/");
  auto input = input_shape(model, operation);
  if (!input) {
    request.path_and_query = request_uri;
    return request;
  }
  Partitioned p = partition(*input, params);
  request.path_and_query = render_path(request_uri, p.labels);
  if (std::string query = render_query(p); !query.empty())
    request.path_and_query += (request_uri.find('?') == std::string::npos ? "?" : "&") + query;
  request.headers = std::move(p.headers);

  const json& def = input->definition();
  bool structured = true;  // a JSON body, rather than raw bytes
  if (auto payload = def.find("payload"); payload != def.end()) {
    const std::string name = payload->get<std::string>();
    Shape member = input->member(name);
    auto value = params.find(name);
    if (member.type() == "blob" || member.type() == "string") {
      structured = false;
      if (value != params.end()) request.body = value->get<std::string>();
      if (!request.body.empty() && !find_header(request.headers, "Content-Type"))
        request.headers.emplace_back("Content-Type",
                                     member.type() == "string" ? "text/plain" : "application/octet-stream");
    } else if (value != params.end()) {
      request.body = json_text(to_wire_json(member, *value));
    } else if (!member.is_union() && !member.is_document()) {
      request.body = "{}";
    }
  } else if (!p.body.empty() || has_body_members(*input)) {
    request.body = json_text(to_wire_json(*input, p.body));
  }
  if (structured && !request.body.empty() && !find_header(request.headers, "Content-Type"))
    request.headers.emplace_back("Content-Type", "application/json");
  return request;
}

ParsedResponse parse_rest_json(const ServiceModel& model, const json& operation, const HttpResponse& response) {
  ParsedResponse out;
  if (response.status >= 300) {
    static const json kNoBody = json::object();
    const std::optional<json> body = parse_json_body(response.body);
    out.error = json_error(response, body ? *body : kNoBody);
    if (auto shape = error_shape(model, operation, out.error.code)) {
      try {
        out.error.fields = read_output(*shape, response);
      } catch (const Error&) {
        // The code and message stand without the modelled fields.
      }
    }
    return out;
  }
  out.ok = true;
  auto output = output_shape(model, operation);
  out.result = output ? read_output(*output, response) : json::object();
  return out;
}

}  // namespace byoc::aws::detail
