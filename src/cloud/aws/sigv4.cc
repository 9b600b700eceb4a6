#include "cloud/aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "base/crypto.h"
#include "base/error.h"
#include "base/percent.h"

namespace byoc::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len))
    throw Error(ErrorKind::kInternal, "hmac_failed", "HMAC-SHA256 failed");
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trimmed, with every run of whitespace (a folded line break included) one space:
// the suites' get-header-value-trim and get-header-value-multiline.
std::string canonical_header_value(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string decode_or_throw(std::string_view s) {
  // '+' stays '+': AWS reads query strings as RFC 3986, not as form data.
  auto decoded = percent_decode(s, /*plus_is_space=*/false);
  if (!decoded) throw Error::Invalid("bad_query", "malformed percent-encoding in query: " + std::string(s));
  return *decoded;
}

// Splits "path?query" at the first '?'.
std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

// Index of the first header named `name` (any case), or -1.
long find_header(const SigningRequest& r, std::string_view name) {
  std::string want = lower(name);
  for (size_t i = 0; i < r.headers.size(); ++i)
    if (lower(r.headers[i].first) == want) return static_cast<long>(i);
  return -1;
}

// Sets an existing header (keeping its place and spelling) or appends one:
// a request that already carries X-Amz-Date or the token keeps one copy.
void set_header(SigningRequest& r, std::string_view name, std::string value) {
  long i = find_header(r, name);
  if (i >= 0)
    r.headers[static_cast<size_t>(i)].second = std::move(value);
  else
    r.headers.emplace_back(std::string(name), std::move(value));
}

struct CanonicalHeaders {
  std::string block;   // "name:value\n" lines
  std::string signed_names;  // "a;b;c"
};

CanonicalHeaders canonical_headers(const SigningRequest& r, std::string_view skip_lower) {
  // Values of one name join with ',' in the order given.
  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : r.headers) {
    std::string n = lower(name);
    if (n == "authorization" || (!skip_lower.empty() && n == skip_lower)) continue;
    auto [it, fresh] = by_name.try_emplace(n, canonical_header_value(value));
    if (!fresh) it->second += "," + canonical_header_value(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : by_name) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_names.empty()) out.signed_names += ';';
    out.signed_names += name;
  }
  return out;
}

std::string two_digits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

}  // namespace

std::string uri_encode(std::string_view bytes, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize, bool double_encode) {
  std::string p = path.empty() ? "/" : std::string(path);
  if (normalize) {
    // RFC 3986 §5.2.4 dot-segment removal, empty segments (repeated slashes)
    // dropped too; a trailing slash survives.
    std::vector<std::string_view> segments;
    std::string_view rest = p;
    size_t start = 0;
    while (start <= rest.size()) {
      size_t end = rest.find('/', start);
      if (end == std::string_view::npos) end = rest.size();
      std::string_view seg = rest.substr(start, end - start);
      if (seg == "..") {
        if (!segments.empty()) segments.pop_back();
      } else if (!seg.empty() && seg != ".") {
        segments.push_back(seg);
      }
      start = end + 1;
    }
    bool trailing = p.back() == '/' || p.ends_with("/.") || p.ends_with("/..");
    std::string out = "/";
    for (size_t i = 0; i < segments.size(); ++i) {
      if (i) out += '/';
      out += segments[i];
    }
    if (trailing && !segments.empty()) out += '/';
    p = std::move(out);
  }
  return double_encode ? uri_encode(p, /*keep_slash=*/true) : p;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    if (!piece.empty()) {
      size_t eq = piece.find('=');
      std::string_view name = piece.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1);
      params.emplace_back(uri_encode(decode_or_throw(name), false), uri_encode(decode_or_throw(value), false));
    }
    start = end + 1;
  }
  // Sorted by encoded name, then encoded value (byte order).
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name + "=" + value;
  }
  return out;
}

std::string amz_date(TimePoint time) {
  using namespace std::chrono;
  auto secs = floor<seconds>(time);
  auto day = floor<days>(secs);
  year_month_day ymd{day};
  hh_mm_ss hms{secs - day};
  return std::to_string(static_cast<int>(ymd.year())) + two_digits(static_cast<int>(unsigned(ymd.month()))) +
         two_digits(static_cast<int>(unsigned(ymd.day()))) + "T" + two_digits(static_cast<int>(hms.hours().count())) +
         two_digits(static_cast<int>(hms.minutes().count())) + two_digits(static_cast<int>(hms.seconds().count())) +
         "Z";
}

std::optional<TimePoint> parse_amz_date(std::string_view text) {
  int y, mo, d, h, mi, s;
  char tail = 0;
  std::string t(text);
  int n = 0;
  if (t.size() == 16 && std::sscanf(t.c_str(), "%4d%2d%2dT%2d%2d%2d%c%n", &y, &mo, &d, &h, &mi, &s, &tail, &n) == 7 &&
      tail == 'Z' && n == 16) {
  } else if (t.size() == 20 &&
             std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &y, &mo, &d, &h, &mi, &s, &tail, &n) == 7 &&
             tail == 'Z' && n == 20) {
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  return TimePoint(sys_days{ymd}) + hours{h} + minutes{mi} + seconds{s};
}

SigningResult sign(const SigningRequest& request, const SigningParams& params) {
  if (params.access_key.empty() || params.secret_key.empty())
    throw Error::Invalid("missing_credentials", "an access key and a secret key are needed to sign");
  if (params.region.empty() || params.service.empty())
    throw Error::Invalid("missing_scope", "a region and a service are needed to sign");
  if (params.expires_seconds < 0 || params.expires_seconds > 7 * 24 * 3600)
    throw Error::Invalid("bad_expiry", "a presigned request lasts 1 second to 7 days");

  const bool presign = params.expires_seconds > 0;
  const std::string date_time = amz_date(params.time);
  const std::string date = date_time.substr(0, 8);
  const std::string scope = date + "/" + params.region + "/" + params.service + "/aws4_request";
  const bool has_token = !params.session_token.empty();

  std::string payload_hash = params.payload == PayloadHash::kUnsignedPayload
                                 ? std::string("UNSIGNED-PAYLOAD")
                                 : crypto::sha256_hex(request.body);

  SigningResult result;
  SigningRequest& out = result.signed_request;
  out = request;

  // What is added before signing, so that it is signed (unless omitted).
  std::string presign_query;  // X-Amz-* parameters in the order they are sent, without the signature
  std::string skip_header;    // a header sent but not signed
  if (!presign) {
    if (has_token) {
      set_header(out, "X-Amz-Security-Token", params.session_token);
      if (params.omit_session_token) skip_header = "x-amz-security-token";
    }
    set_header(out, "X-Amz-Date", date_time);
    if (params.payload == PayloadHash::kBodyInHeader) set_header(out, "x-amz-content-sha256", payload_hash);
  }
  CanonicalHeaders headers = canonical_headers(out, skip_header);

  auto [path, query] = split_target(request.path_and_query);
  std::string query_to_sign(query);
  if (presign) {
    auto add = [&](std::string& q, std::string_view name, std::string_view value) {
      if (!q.empty()) q += '&';
      q += std::string(name) + "=" + uri_encode(value, false);
    };
    add(presign_query, "X-Amz-Algorithm", kAlgorithm);
    add(presign_query, "X-Amz-Credential", params.access_key + "/" + scope);
    add(presign_query, "X-Amz-Date", date_time);
    add(presign_query, "X-Amz-SignedHeaders", headers.signed_names);
    add(presign_query, "X-Amz-Expires", std::to_string(params.expires_seconds));
    query_to_sign = std::string(query);
    if (!query_to_sign.empty()) query_to_sign += '&';
    query_to_sign += presign_query;
    if (has_token) {
      add(presign_query, "X-Amz-Security-Token", params.session_token);
      if (!params.omit_session_token) add(query_to_sign, "X-Amz-Security-Token", params.session_token);
    }
  }

  result.canonical_request = request.method + "\n" +
                             canonical_uri(path, params.normalize_path, params.double_encode_path) + "\n" +
                             canonical_query(query_to_sign) + "\n" + headers.block + "\n" + headers.signed_names +
                             "\n" + payload_hash;
  result.string_to_sign = std::string(kAlgorithm) + "\n" + date_time + "\n" + scope + "\n" +
                          crypto::sha256_hex(result.canonical_request);

  std::string key = hmac_sha256("AWS4" + params.secret_key, date);
  key = hmac_sha256(key, params.region);
  key = hmac_sha256(key, params.service);
  key = hmac_sha256(key, "aws4_request");
  result.signature = crypto::hex(hmac_sha256(key, result.string_to_sign));

  if (presign) {
    out.path_and_query = request.path_and_query;
    const std::string& t = request.path_and_query;
    if (t.find('?') == std::string::npos)
      out.path_and_query += '?';
    else if (!t.ends_with('?') && !t.ends_with('&'))
      out.path_and_query += '&';
    out.path_and_query += presign_query + "&X-Amz-Signature=" + result.signature;
  } else {
    result.authorization = std::string(kAlgorithm) + " Credential=" + params.access_key + "/" + scope +
                           ", SignedHeaders=" + headers.signed_names + ", Signature=" + result.signature;
    set_header(out, "Authorization", result.authorization);
  }
  return result;
}

SigningRequest parse_http_request(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  std::string_view body;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() && !lines.empty()) {
      // The blank line: the rest is the body, byte for byte.
      if (nl != std::string_view::npos) body = text.substr(nl + 1);
      break;
    }
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (lines.empty() || lines[0].empty()) throw Error::Invalid("bad_request_line", "empty request");

  SigningRequest r;
  std::string_view first = lines[0];
  size_t sp = first.find(' ');
  size_t version = first.rfind(" HTTP/");
  if (sp == std::string_view::npos || version == std::string_view::npos || version <= sp)
    throw Error::Invalid("bad_request_line", "expected \"METHOD target HTTP/1.1\", got: " + std::string(first));
  r.method = std::string(first.substr(0, sp));
  r.path_and_query = std::string(first.substr(sp + 1, version - sp - 1));
  if (r.path_and_query.empty() || r.path_and_query[0] != '/')
    throw Error::Invalid("bad_request_line", "the request target must start with '/': " + std::string(first));

  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line[0] == ' ' || line[0] == '\t') {
      if (r.headers.empty()) throw Error::Invalid("bad_header", "a continuation line before any header");
      r.headers.back().second += "\n" + std::string(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      throw Error::Invalid("bad_header", "expected \"Name:value\", got: " + std::string(line));
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  r.body = std::string(body);
  return r;
}

std::string format_http_request(const SigningRequest& request) {
  std::string out = request.method + " " + request.path_and_query + " HTTP/1.1\n";
  for (const auto& [name, value] : request.headers) out += name + ":" + value + "\n";
  out += "\n";
  out += request.body;
  return out;
}

}  // namespace byoc::aws
