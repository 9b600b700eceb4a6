// parse_json_body (declared in routes.h): the one reader of API request
// bodies. Strict where parsers commonly differ: a key repeated in an object
// (one reader takes the first, another the last — how authorisation bypasses
// start), a byte order mark, a charset other than UTF-8, nesting deeper than
// any request of ours.
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "server/routes.h"

namespace byoc::server {
using nlohmann::json;

namespace {

constexpr int kMaxDepth = 32;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

struct MediaType {
  std::string type;     // lowercased, e.g. "application/json"
  std::string charset;  // lowercased, unquoted; empty if not given
};

MediaType media_type(const std::string& header) {
  MediaType out;
  size_t semicolon = header.find(';');
  out.type = lower(trim(header.substr(0, semicolon)));
  while (semicolon != std::string::npos) {
    size_t next = header.find(';', semicolon + 1);
    std::string param = trim(header.substr(semicolon + 1, next == std::string::npos ? next : next - semicolon - 1));
    auto eq = param.find('=');
    if (eq != std::string::npos && lower(trim(param.substr(0, eq))) == "charset") {
      std::string value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      out.charset = lower(value);
    }
    semicolon = next;
  }
  return out;
}

// Where the parser is, to name the field of a repeated key ("a.b[2].c").
class KeyTracker {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) throw Error::BadRequest("invalid_json", "request body nests too deeply");
    switch (event) {
      case json::parse_event_t::object_start:
        element_begins();
        frames_.push_back({true, {}, "", -1});
        break;
      case json::parse_event_t::array_start:
        element_begins();
        frames_.push_back({false, {}, "", -1});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        top.key = parsed.get<std::string>();
        if (!top.keys.insert(top.key).second)
          throw Error::BadRequest("duplicate_key", "key '" + top.key + "' appears more than once", path());
        break;
      }
      case json::parse_event_t::value:
        element_begins();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool object;
    std::unordered_set<std::string> keys;
    std::string key;
    long index;
  };

  void element_begins() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.object) {
        if (!out.empty()) out += '.';
        out += f.key;
      } else {
        out += "[" + std::to_string(f.index) + "]";
      }
    }
    return out;
  }

  std::vector<Frame> frames_;
};

}  // namespace

json parse_json_body(const HttpRequest& req) {
  MediaType media = media_type(req.header("content-type"));
  if (req.body.empty() && media.type.empty()) return json::object();
  if (media.type != "application/json")
    throw Error(ErrorKind::kUnsupportedMedia, "unsupported_media_type", "Content-Type must be application/json");
  if (!media.charset.empty() && media.charset != "utf-8")
    throw Error(ErrorKind::kUnsupportedMedia, "unsupported_charset", "a JSON body is UTF-8 (charset=utf-8)");
  if (req.body.rfind("\xEF\xBB\xBF", 0) == 0)
    throw Error::BadRequest("invalid_json", "request body starts with a byte order mark");
  KeyTracker tracker;
  json body = json::parse(req.body, std::ref(tracker), /*allow_exceptions=*/false);
  if (body.is_discarded()) throw Error::BadRequest("invalid_json", "request body is not valid JSON");
  return body;
}

}  // namespace byoc::server
