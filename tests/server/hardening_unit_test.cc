// The pure parts of the listener's hardening: request targets, framing rules,
// JSON bodies, metric labels and the connection table.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/utf8.h"
#include "server/connection_table.h"
#include "server/metrics.h"
#include "server/request_head.h"
#include "server/request_target.h"
#include "server/routes.h"

namespace byoc::server {
namespace {

std::string error_code(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code() + "/" + std::to_string(e.http_status()) + "/" + e.field();
  }
  return "ok";
}

TEST(RequestTarget, DecodesAndRefusesWhatIsNotUtf8) {
  auto t = parse_request_target("/v1/environments/a%20b?organization=x%2By&q=a+b");
  EXPECT_EQ(t.path, "/v1/environments/a b");
  EXPECT_EQ(t.query.at("organization"), "x+y");
  EXPECT_EQ(t.query.at("q"), "a b");
  EXPECT_EQ(parse_request_target("https://host:1/healthz?x=1").path, "/healthz");
  EXPECT_EQ(error_code([] { parse_request_target("/v1/environments/%ff"); }), "invalid_path/400/path");
  EXPECT_EQ(error_code([] { parse_request_target("/a%zz"); }), "invalid_path/400/path");
  EXPECT_EQ(error_code([] { parse_request_target("/a%f"); }), "invalid_path/400/path");
  EXPECT_EQ(error_code([] { parse_request_target("/a%00"); }), "invalid_path/400/path");
  EXPECT_EQ(error_code([] { parse_request_target("/a%c0%af"); }), "invalid_path/400/path");  // overlong '/'
  EXPECT_EQ(error_code([] { parse_request_target("a"); }), "invalid_path/400/path");
  EXPECT_EQ(error_code([] { parse_request_target("/?organization=%ff"); }), "invalid_query/400/query");
  EXPECT_EQ(error_code([] { parse_request_target("/?a=1&a=2"); }), "invalid_query/400/query");
}

TEST(Utf8, RejectsSurrogatesOverlongsAndTruncation) {
  EXPECT_TRUE(utf8::valid("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  EXPECT_FALSE(utf8::valid("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(utf8::valid("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(utf8::valid("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(utf8::valid("\xE2\x82"));          // truncated
}

RequestHead head(unsigned version, std::vector<HeadField> fields) { return {version, std::move(fields)}; }

int status_of(const RequestHead& h) {
  auto r = check_request_head(h);
  return r ? r->status : 0;
}

TEST(RequestHead, FramingFollowsRfc9112) {
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}})), 0);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "chunked"}})), 0);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "xchunked"}, {"Content-Length", "2"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "2"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "chunked, gzip"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "gzip, chunked"}})), 501);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}})),
            400);
  EXPECT_EQ(status_of(head(10, {{"Transfer-Encoding", "chunked"}})), 400);
  EXPECT_EQ(status_of(head(11, {})), 400);                                   // no Host
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"host", "y"}})), 400);       // two
  EXPECT_EQ(status_of(head(20, {{"Host", "x"}})), 505);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Content-Length", "-1"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Authorization", "a"}, {"authorization", "b"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Idempotency-Key", "k\xff"}})), 400);
  EXPECT_EQ(status_of(head(11, {{"Host", "x"}, {"Expect", "teapot"}})), 417);
  EXPECT_TRUE(expects_continue(head(11, {{"Host", "x"}, {"Expect", "100-Continue"}})));
}

HttpRequest json_request(std::string body, std::string type = "application/json") {
  HttpRequest r;
  r.headers["content-type"] = std::move(type);
  r.body = std::move(body);
  return r;
}

TEST(JsonBody, DuplicateKeysAnywhereAreRefusedWithTheirField) {
  EXPECT_EQ(error_code([] { parse_json_body(json_request(R"({"role":"customer","role":"admin"})")); }),
            "duplicate_key/400/role");
  EXPECT_EQ(error_code([] { parse_json_body(json_request(R"({"a":[1,{"b":1,"b":2}]})")); }),
            "duplicate_key/400/a[1].b");
  EXPECT_EQ(error_code([] { parse_json_body(json_request(R"({"a":{"x":1},"b":{"x":1}})")); }), "ok");
  EXPECT_EQ(error_code([] { parse_json_body(json_request("\xEF\xBB\xBF{}")); }), "invalid_json/400/");
  EXPECT_EQ(error_code([] { parse_json_body(json_request("{}", "application/json; charset=latin1")); }),
            "unsupported_charset/415/");
  EXPECT_EQ(error_code([] { parse_json_body(json_request("{}", "Application/JSON; charset=\"UTF-8\"")); }), "ok");
  EXPECT_EQ(error_code([] { parse_json_body(json_request(std::string(100, '[') + std::string(100, ']'))); }),
            "invalid_json/400/");
}

TEST(MetricsLabels, UnknownMethodsAreOther) {
  Metrics m;
  for (int i = 0; i < 20; ++i) m.observe_request("M" + std::to_string(i), "unmatched", 405, 0.001);
  std::string text = m.render();
  EXPECT_EQ(text.find("method=\"M1"), std::string::npos);
  EXPECT_NE(text.find("method=\"other\""), std::string::npos);
}

TEST(ConnectionTable, APendingFloodCostsItsSenderOnly) {
  ConnectionTable table({10, 3, 2});
  int evicted = 0;
  std::vector<ConnectionTable::Handle> a;
  for (int i = 0; i < 5; ++i) a.push_back(table.admit("10.0.0.1", [&] { ++evicted; }));
  EXPECT_EQ(evicted, 2);  // the two oldest made room
  EXPECT_EQ(table.pending_from("10.0.0.1"), 3u);
  auto b = table.admit("10.0.0.2", [] {});
  ASSERT_TRUE(b);
  EXPECT_EQ(table.pending_from("10.0.0.2"), 1u);
  // Handshakes: two slots, the third waits for one to free.
  int started = 0;
  table.request_handshake(a[2], [&] { ++started; });
  table.request_handshake(a[3], [&] { ++started; });
  table.request_handshake(a[4], [&] { ++started; });
  EXPECT_EQ(started, 2);
  table.handshake_done(a[2]);
  EXPECT_EQ(started, 3);
  table.release(a[3]);
  EXPECT_EQ(table.handshakes_in_progress(), 1u);
  for (auto& h : a) table.release(h);
  table.release(b);
  EXPECT_EQ(table.connections(), 0u);
  // Full: refused.
  ConnectionTable small({1, 5, 1});
  auto first = small.admit("x", [] {});
  EXPECT_FALSE(small.admit("y", [] {}));
}

}  // namespace
}  // namespace byoc::server
