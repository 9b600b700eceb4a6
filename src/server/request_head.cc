#include "server/request_head.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace byoc::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u < 0x7F);
  });
}

HeadRejection bad(std::string code, std::string message, std::string field) {
  return {400, std::move(code), std::move(message), std::move(field)};
}

// The transfer codings of every Transfer-Encoding field, in order, each
// without its parameters, lowercased.
std::vector<std::string> transfer_codings(const RequestHead& head) {
  std::vector<std::string> out;
  for (const auto& f : head.fields) {
    if (lower(f.name) != "transfer-encoding") continue;
    std::string_view rest = f.value;
    while (true) {
      auto comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      item = trim(item.substr(0, item.find(';')));
      if (!item.empty()) out.push_back(lower(item));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  return out;
}

}  // namespace

std::optional<HeadRejection> check_request_head(const RequestHead& head) {
  if (head.version != 10 && head.version != 11)
    return HeadRejection{505, "http_version_not_supported", "only HTTP/1.0 and HTTP/1.1 are served", ""};
  std::map<std::string, std::vector<std::string_view>> by_name;
  for (const auto& f : head.fields) by_name[lower(f.name)].push_back(f.value);
  auto count = [&](const std::string& name) {
    auto it = by_name.find(name);
    return it == by_name.end() ? size_t{0} : it->second.size();
  };

  size_t hosts = count("host");
  if (hosts > 1 || (head.version == 11 && hosts == 0))
    return bad("invalid_host", "an HTTP/1.1 request has exactly one Host header", "Host");

  size_t lengths = count("content-length");
  if (lengths > 1) return bad("invalid_content_length", "Content-Length appears more than once", "Content-Length");
  if (lengths == 1) {
    std::string_view v = trim(by_name["content-length"].front());
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return bad("invalid_content_length", "Content-Length must be a decimal number", "Content-Length");
  }

  if (count("transfer-encoding") > 0) {
    if (head.version == 10)
      return bad("invalid_transfer_encoding", "HTTP/1.0 has no Transfer-Encoding", "Transfer-Encoding");
    if (lengths > 0)
      return bad("invalid_transfer_encoding", "Transfer-Encoding and Content-Length together", "Transfer-Encoding");
    auto codings = transfer_codings(head);
    if (codings.empty() || codings.back() != "chunked" ||
        std::count(codings.begin(), codings.end(), "chunked") != 1)
      return bad("invalid_transfer_encoding", "the last transfer coding must be chunked, and only it",
                 "Transfer-Encoding");
    if (codings.size() > 1)
      return HeadRejection{501, "not_implemented", "transfer coding '" + codings.front() + "' is not supported",
                           "Transfer-Encoding"};
  }

  for (const char* name : {"authorization", "content-type", "idempotency-key", "expect"}) {
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;
    std::string display = name;
    for (size_t i = 0; i < display.size(); ++i)
      if (i == 0 || display[i - 1] == '-') display[i] = static_cast<char>(std::toupper(display[i]));
    if (it->second.size() > 1) return bad("duplicate_header", display + " appears more than once", display);
    if (!printable_ascii(it->second.front()))
      return bad("invalid_header", display + " must be printable ASCII", display);
  }
  if (count("expect") == 1 && lower(trim(by_name["expect"].front())) != "100-continue")
    return HeadRejection{417, "expectation_failed", "only Expect: 100-continue is understood", "Expect"};
  return std::nullopt;
}

bool expects_continue(const RequestHead& head) {
  if (head.version != 11) return false;
  for (const auto& f : head.fields)
    if (lower(f.name) == "expect" && lower(trim(f.value)) == "100-continue") return true;
  return false;
}

}  // namespace byoc::server
