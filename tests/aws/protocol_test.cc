// Proves cloud/aws/protocol.h speaks query, ec2, json and rest-json as AWS
// does: every case of botocore's copy of the official protocol tests
// (vectors/protocols, see vectors/SOURCES.md), in both directions, compared
// as botocore's test_protocols.py compares them. Each suite prints its
// counts; a case is skipped only with a stated reason. Focused tests after
// them pin down what the vectors don't: bad parameters and bad answers.
#include "cloud/aws/protocol.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/error.h"
#include "testing/testing.h"
#include "vector_tally.h"

namespace byoc::aws {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Copied into the repository (vectors/SOURCES.md), so a clean clone runs them.
fs::path protocol_vectors() { return byoc::testing::source_dir() / "tests" / "aws" / "vectors" / "protocols"; }

json load(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

std::string show(const json& v) { return v.dump(2, ' ', false, json::error_handler_t::replace); }

// The suite's metadata and shapes with the case's operation, as botocore's
// runner assembles them.
ServiceModel model_for(const json& suite, const json& kase) {
  json model = {{"metadata", suite["metadata"]}, {"shapes", suite["shapes"]}, {"operations", json::object()}};
  model["operations"][kase["given"]["name"].get<std::string>()] = kase["given"];
  return ServiceModel::parse(model);
}

// Features of the protocol tests byoc deliberately leaves out.
std::string skip_reason(const json& kase) {
  const json& given = kase["given"];
  if (given.contains("requestcompression"))
    return "request compression (gzip) is not implemented: byoc's requests are small";
  if (given.value("httpChecksumRequired", false))
    return "httpChecksumRequired (Content-MD5) is not implemented: only S3-style operations need it, none byoc calls";
  return "";
}

// ---- comparing ----

bool same_number(const json& a, const json& b) {
  double x = a.get<double>(), y = b.get<double>();
  return std::fabs(x - y) <= 1e-6 * std::max(1.0, std::fabs(y));
}

// Where `got` differs from `want` ("" when it doesn't). Numbers compare by
// value: a timestamp with a fraction is a double on either side.
std::string json_diff(const json& want, const json& got, const std::string& path = "$") {
  if (want.is_number() && got.is_number()) return same_number(want, got) ? "" : path + ": " + show(got) + " != " + show(want);
  if (want.type() != got.type()) return path + ": got " + show(got) + ", want " + show(want);
  if (want.is_object()) {
    for (const auto& [k, v] : want.items()) {
      if (!got.contains(k)) return path + "." + k + ": missing";
      if (auto d = json_diff(v, got[k], path + "." + k); !d.empty()) return d;
    }
    for (const auto& [k, v] : got.items())
      if (!want.contains(k)) return path + "." + k + ": unexpected " + show(v);
    return "";
  }
  if (want.is_array()) {
    if (want.size() != got.size()) return path + ": " + std::to_string(got.size()) + " items, want " + std::to_string(want.size());
    for (size_t i = 0; i < want.size(); ++i)
      if (auto d = json_diff(want[i], got[i], path + "[" + std::to_string(i) + "]"); !d.empty()) return d;
    return "";
  }
  return want == got ? "" : path + ": " + show(got) + " != " + show(want);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  return out;
}

// A query string as name -> values in order: the order of different names
// carries no meaning (SigV4 sorts them; our parameters arrive as a sorted
// JSON object), the order of one name's values does.
std::map<std::string, std::vector<std::string>> query_pairs(const std::string& query) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& pair : split(query, '&')) {
    size_t eq = pair.find('=');
    out[pair.substr(0, eq)].push_back(eq == std::string::npos ? "\x01(no value)" : pair.substr(eq + 1));
  }
  return out;
}

std::string uri_diff(const std::string& want, const std::string& got) {
  auto wq = want.find('?'), gq = got.find('?');
  if (want.substr(0, wq) != got.substr(0, gq)) return "path\n  got  " + got + "\n  want " + want;
  std::string wquery = wq == std::string::npos ? "" : want.substr(wq + 1);
  std::string gquery = gq == std::string::npos ? "" : got.substr(gq + 1);
  if (query_pairs(wquery) != query_pairs(gquery)) return "query\n  got  " + got + "\n  want " + want;
  return "";
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool has_header(const Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers)
    if (lower(k) == lower(name)) return true;
  return false;
}

std::string body_diff(const std::string& protocol, const std::string& want, const std::string& got) {
  if (protocol == "query" || protocol == "ec2") {
    // Form bodies as their pairs, for the reason query_pairs gives.
    if (query_pairs(want) != query_pairs(got)) return "form body\n  got  " + got + "\n  want " + want;
    return "";
  }
  if (want == got) return "";
  json w = json::parse(want, nullptr, false), g = json::parse(got, nullptr, false);
  if (!w.is_discarded() && !g.is_discarded() && !want.empty() && !got.empty()) {
    if (auto d = json_diff(w, g); !d.empty()) return "JSON body " + d;
    return "";
  }
  return "body\n  got  " + got + "\n  want " + want;
}

// The client endpoint's host (and path) without its scheme: "example.com/custom".
std::string endpoint_of(const json& suite) {
  std::string endpoint = suite.value("clientEndpoint", "https://example.com");
  if (auto scheme = endpoint.find("://"); scheme != std::string::npos) endpoint = endpoint.substr(scheme + 3);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  return endpoint;
}

// What differs between the serialized request and the expected one.
std::string request_diff(const std::string& protocol, const json& suite, const json& want, const HttpRequest& got) {
  if (want.contains("method") && want["method"] != got.method) return "method " + got.method + " != " + show(want["method"]);
  // The transport joins the endpoint's path and ours; the vectors expect both.
  std::string endpoint = endpoint_of(suite);
  std::string endpoint_path = endpoint.find('/') == std::string::npos ? "" : endpoint.substr(endpoint.find('/'));
  if (auto d = uri_diff(want.value("uri", ""), endpoint_path + got.path_and_query); !d.empty()) return d;
  if (want.contains("host") && got.host_prefix + endpoint != want["host"].get<std::string>())
    return "host " + got.host_prefix + endpoint + " != " + show(want["host"]);
  if (want.contains("body"))
    if (auto d = body_diff(protocol, want["body"], got.body); !d.empty()) return d;
  const json headers = want.value("headers", json::object());
  for (const auto& [name, value] : headers.items()) {
    if (!has_header(got.headers, name)) return "header " + name + " missing";
    if (header_value(got.headers, name) != value.get<std::string>())
      return "header " + name + ": " + header_value(got.headers, name) + " != " + value.get<std::string>();
  }
  const json forbidden = want.value("forbidHeaders", json::array());
  for (const auto& name : forbidden)
    if (has_header(got.headers, name.get<std::string>())) return "forbidden header " + name.get<std::string>() + " sent";
  return "";
}

std::string response_diff(const json& kase, const ParsedResponse& got) {
  if (kase.contains("error")) {
    if (got.ok) return "parsed a result, want error " + kase.value("errorCode", "");
    if (got.error.code != kase.value("errorCode", "")) return "error code " + got.error.code + " != " + kase.value("errorCode", "");
    // A case without errorMessage says nothing of it (Ec2ComplexError's body
    // carries <Message>Hi</Message> and no errorMessage).
    if (kase.contains("errorMessage") && got.error.message != kase["errorMessage"].get<std::string>())
      return "error message '" + got.error.message + "' != '" + kase.value("errorMessage", "") + "'";
    json fields = got.error.fields.is_null() ? json::object() : got.error.fields;
    if (auto d = json_diff(kase["error"], fields); !d.empty()) return "error fields " + d;
    return "";
  }
  if (!got.ok) return "error " + got.error.code + ": " + got.error.message;
  if (auto d = json_diff(kase["result"], got.result); !d.empty()) return "result " + d;
  return "";
}

HttpResponse response_of(const json& r) {
  HttpResponse out;
  out.status = r.value("status_code", 200);
  const json headers = r.value("headers", json::object());
  for (const auto& [k, v] : headers.items()) out.headers.emplace_back(k, v.get<std::string>());
  out.body = r.value("body", "");
  return out;
}

std::string case_name(const json& suite, const json& kase) {
  return kase.value("id", kase.value("description", suite.value("description", "?")));
}

// Runs every case of one vector file; failures are reported one by one.
void run_input_suite(const std::string& protocol) {
  Tally tally;
  const json suites = load(protocol_vectors() / "input" / (protocol + ".json"));
  // The vectors' fixed token; the default is a random UUID v4.
  SerializeOptions options;
  options.idempotency_token = [] { return std::string("00000000-0000-4000-8000-000000000000"); };
  for (const auto& suite : suites) {
    for (const auto& kase : suite["cases"]) {
      const std::string name = case_name(suite, kase);
      if (auto reason = skip_reason(kase); !reason.empty()) {
        tally.skipped.emplace_back(name, reason);
        continue;
      }
      std::string why;
      HttpRequest request;
      try {
        ServiceModel model = model_for(suite, kase);
        request = serialize_request(model, kase["given"]["name"].get<std::string>(), kase["params"], options);
        why = request_diff(protocol, suite, kase["serialized"], request);
      } catch (const std::exception& e) {
        why = std::string("threw: ") + e.what();
      }
      if (!why.empty())
        ADD_FAILURE() << protocol << " input " << name << " (" << kase.value("description", "") << "): " << why
                      << "\n  params " << show(kase["params"]) << "\n  got " << request.method << " "
                      << request.path_and_query << "\n  body " << request.body;
      (why.empty() ? tally.passed : tally.failed)++;
    }
  }
  tally.print(protocol + " input");
  EXPECT_GT(tally.passed, 20);
}

void run_output_suite(const std::string& protocol) {
  Tally tally;
  const json suites = load(protocol_vectors() / "output" / (protocol + ".json"));
  for (const auto& suite : suites) {
    for (const auto& kase : suite["cases"]) {
      const std::string name = case_name(suite, kase);
      if (auto reason = skip_reason(kase); !reason.empty()) {
        tally.skipped.emplace_back(name, reason);
        continue;
      }
      std::string why;
      ParsedResponse parsed;
      try {
        ServiceModel model = model_for(suite, kase);
        parsed = parse_response(model, kase["given"]["name"].get<std::string>(), response_of(kase["response"]));
        why = response_diff(kase, parsed);
      } catch (const std::exception& e) {
        why = std::string("threw: ") + e.what();
      }
      if (!why.empty())
        ADD_FAILURE() << protocol << " output " << name << " (" << kase.value("description", "") << "): " << why
                      << "\n  response " << show(kase["response"]) << "\n  got "
                      << (parsed.ok ? show(parsed.result) : parsed.error.code + " " + show(parsed.error.fields));
      (why.empty() ? tally.passed : tally.failed)++;
    }
  }
  tally.print(protocol + " output");
  EXPECT_GT(tally.passed, 20);
}

TEST(ProtocolVectors, QueryInput) { run_input_suite("query"); }
TEST(ProtocolVectors, QueryOutput) { run_output_suite("query"); }
TEST(ProtocolVectors, Ec2Input) { run_input_suite("ec2"); }
TEST(ProtocolVectors, Ec2Output) { run_output_suite("ec2"); }
TEST(ProtocolVectors, JsonInput) { run_input_suite("json"); }
TEST(ProtocolVectors, JsonOutput) { run_output_suite("json"); }
TEST(ProtocolVectors, RestJsonInput) { run_input_suite("rest-json"); }
TEST(ProtocolVectors, RestJsonOutput) { run_output_suite("rest-json"); }

// ---- beyond the vectors ----

// A small model in each protocol: CreateThing(Name required, Tags list of
// {Key, Value}, Count integer, Token idempotency token) -> {Id}.
ServiceModel thing_model(const std::string& protocol) {
  json model = json::parse(R"({
    "metadata": {"apiVersion": "2020-01-01", "targetPrefix": "Things", "jsonVersion": "1.1"},
    "operations": {"CreateThing": {"name": "CreateThing", "http": {"method": "POST", "requestUri": "/things"},
                   "input": {"shape": "CreateThingInput"},
                   "output": {"shape": "CreateThingOutput", "resultWrapper": "CreateThingResult"}}},
    "shapes": {
      "CreateThingInput": {"type": "structure", "required": ["Name"], "members": {
        "Name": {"shape": "String"}, "Tags": {"shape": "TagList"}, "Count": {"shape": "Integer"},
        "Token": {"shape": "String", "idempotencyToken": true}}},
      "CreateThingOutput": {"type": "structure", "members": {"Id": {"shape": "String"}}},
      "TagList": {"type": "list", "member": {"shape": "Tag"}},
      "Tag": {"type": "structure", "required": ["Key"], "members": {"Key": {"shape": "String"}, "Value": {"shape": "String"}}},
      "String": {"type": "string"},
      "Integer": {"type": "integer"}}})");
  model["metadata"]["protocol"] = protocol;
  return ServiceModel::parse(model);
}

// The field of the byoc::Error kInvalid that `f` throws.
template <typename F>
std::string invalid_field(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kInvalid) return "(kind " + std::to_string(static_cast<int>(e.kind())) + ")";
    return e.field();
  }
  return "(no error)";
}

TEST(ProtocolParams, RejectsUnknownMembersWrongTypesAndMissingRequired) {
  for (const std::string protocol : {"query", "ec2", "json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    ServiceModel model = thing_model(protocol);
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", "a"}, {"Colour", "red"}}); }),
              "Colour");
    EXPECT_EQ(invalid_field([&] {
                serialize_request(model, "CreateThing", {{"Name", "a"}, {"Tags", {{{"Key", "k"}, {"Shade", "x"}}}}});
              }),
              "Tags[0].Shade");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", 7}}); }), "Name");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", "a"}, {"Count", "7"}}); }), "Count");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", "a"}, {"Tags", "k"}}); }), "Tags");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", json::object()); }), "Name");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", "a"}, {"Tags", {{{"Value", "v"}}}}}); }),
              "Tags[0].Key");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "CreateThing", {{"Name", nullptr}}); }), "Name");
  }
}

TEST(ProtocolParams, FillsIdempotencyTokensWithUuidV4) {
  HttpRequest request = serialize_request(thing_model("json"), "CreateThing", {{"Name", "a"}});
  json body = json::parse(request.body);
  ASSERT_TRUE(body.contains("Token"));
  EXPECT_TRUE(std::regex_match(body["Token"].get<std::string>(),
                               std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << body["Token"];
  // A token the caller gives is kept.
  request = serialize_request(thing_model("json"), "CreateThing", {{"Name", "a"}, {"Token", "mine"}});
  EXPECT_EQ(json::parse(request.body)["Token"], "mine");
}

TEST(ProtocolResponses, MalformedSuccessBodiesAreUnavailable) {
  for (const std::string protocol : {"query", "ec2", "json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    HttpResponse truncated{200, {}, protocol == "query" || protocol == "ec2"
                                        ? "<CreateThingResponse><CreateThingResult><Id>x</Id>"
                                        : "{\"Id\": \"x\""};
    try {
      parse_response(thing_model(protocol), "CreateThing", truncated);
      ADD_FAILURE() << "no error for a truncated answer";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnavailable) << e.what();
    }
  }
}

TEST(ProtocolResponses, ForeignErrorBodiesStillGiveAnError) {
  for (const std::string protocol : {"query", "ec2", "json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    HttpResponse page{503, {{"Content-Type", "text/html"}}, "<html><body>Service Unavailable</body>"};
    ParsedResponse parsed = parse_response(thing_model(protocol), "CreateThing", page);
    EXPECT_FALSE(parsed.ok);
    EXPECT_EQ(parsed.error.status, 503);
    EXPECT_EQ(parsed.error.code, "503");
  }
}

TEST(ProtocolResponses, QueryErrorDocumentCarriesRequestId) {
  HttpResponse answer{400, {}, R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
      <Error><Type>Sender</Type><Code>ValidationError</Code><Message>bad name</Message></Error>
      <RequestId>4bd7-id</RequestId></ErrorResponse>)"};
  ParsedResponse parsed = parse_response(thing_model("query"), "CreateThing", answer);
  ASSERT_FALSE(parsed.ok);
  EXPECT_EQ(parsed.error.code, "ValidationError");
  EXPECT_EQ(parsed.error.message, "bad name");
  EXPECT_EQ(parsed.error.request_id, "4bd7-id");
}

TEST(ServiceModelParse, RejectsDanglingShapeReferences) {
  json model = {{"metadata", {{"protocol", "json"}}},
                {"operations", {{"Op", {{"name", "Op"}, {"input", {{"shape", "Missing"}}}}}}},
                {"shapes", json::object()}};
  EXPECT_EQ(invalid_field([&] { ServiceModel::parse(model); }), "operations.Op.input");
  model["operations"]["Op"].erase("input");
  model["shapes"]["L"] = {{"type", "list"}, {"member", {{"shape", "Nope"}}}};
  EXPECT_EQ(invalid_field([&] { ServiceModel::parse(model); }), "shapes.L.member");
  EXPECT_EQ(byoc::testing::error_code([] { ServiceModel::parse_text("{"); }), "invalid_model");
}

// ---- review findings: answers that don't fit, hostile parameters ----

// Every scalar type in and out: Echo(In) -> Out, both the Scalars shape.
ServiceModel scalars_model(const std::string& protocol) {
  json model = json::parse(R"({
    "metadata": {"apiVersion": "2020-01-01", "targetPrefix": "Things", "jsonVersion": "1.1"},
    "operations": {"Echo": {"name": "Echo", "http": {"method": "POST", "requestUri": "/echo"},
                   "input": {"shape": "Scalars"}, "output": {"shape": "Scalars", "resultWrapper": "EchoResult"}}},
    "shapes": {
      "Scalars": {"type": "structure", "members": {
        "S": {"shape": "String"}, "I": {"shape": "Integer"}, "L": {"shape": "Long"}, "F": {"shape": "Float"},
        "D": {"shape": "Double"}, "B": {"shape": "Boolean"}, "T": {"shape": "Timestamp"}, "Bl": {"shape": "Blob"},
        "List": {"shape": "StringList"}, "Map": {"shape": "StringMap"}, "Nested": {"shape": "Scalars"}}},
      "StringList": {"type": "list", "member": {"shape": "String"}},
      "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
      "String": {"type": "string"}, "Integer": {"type": "integer"}, "Long": {"type": "long"},
      "Float": {"type": "float"}, "Double": {"type": "double"}, "Boolean": {"type": "boolean"},
      "Timestamp": {"type": "timestamp"}, "Blob": {"type": "blob"}}})");
  model["metadata"]["protocol"] = protocol;
  return ServiceModel::parse(model);
}

// The kind and message of the byoc::Error that `f` throws.
template <typename F>
std::pair<ErrorKind, std::string> error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.kind(), e.what()};
  }
  return {ErrorKind::kInternal, "(no error)"};
}

bool unavailable(const std::pair<ErrorKind, std::string>& e) { return e.first == ErrorKind::kUnavailable; }

TEST(ProtocolReview, DeeplyNestedJsonAnswersAreUnavailableNotACrash) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string protocol : {"json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    ServiceModel model = thing_model(protocol);
    auto e = error_of([&] { parse_response(model, "CreateThing", HttpResponse{400, {}, deep}); });
    EXPECT_TRUE(unavailable(e)) << e.second;
    e = error_of([&] { parse_response(model, "CreateThing", HttpResponse{200, {}, "{\"Id\":" + deep + "}"}); });
    EXPECT_TRUE(unavailable(e)) << e.second;
    // Brackets inside strings are not nesting.
    ParsedResponse ok =
        parse_response(model, "CreateThing", HttpResponse{200, {}, "{\"Id\":\"" + std::string(1000, '[') + "\"}"});
    EXPECT_EQ(ok.result["Id"], std::string(1000, '['));
  }
}

TEST(ProtocolReview, JsonScalarsMustFitTheirShape) {
  for (const std::string protocol : {"json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    ServiceModel model = scalars_model(protocol);
    auto parse = [&](const std::string& body) { return parse_response(model, "Echo", HttpResponse{200, {}, body}); };
    for (const char* body : {R"({"S": 1})", R"({"S": {"a": 1}})", R"({"I": "7"})", R"({"I": 1.5})",
                             R"({"L": 18446744073709551615})", R"({"F": "nan"})", R"({"D": "1.5"})", R"({"D": 1e999})",
                             R"({"B": "true"})", R"({"T": true})", R"({"T": 1e300})", R"({"T": "2019-02-30T00:00:00Z"})",
                             R"({"Bl": 5})", R"({"List": [1]})", R"({"Map": {"k": [1]}})", R"({"Nested": {"I": "x"}})"}) {
      auto e = error_of([&] { parse(body); });
      EXPECT_TRUE(unavailable(e)) << body << ": " << e.second;
    }
    auto e = error_of([&] { parse(R"({"Nested": {"List": ["a", 7]}})"); });
    EXPECT_NE(e.second.find("does not fit the model at Nested.List[1]"), std::string::npos) << e.second;
    ParsedResponse ok = parse(R"({"S": "s", "I": 7, "L": 9007199254740993, "F": "NaN", "D": -0.5, "B": false,
                                  "T": "2019-12-16T23:48:18.5-01:00", "Bl": "aGk=", "List": ["a", null], "Map": {"k": "v"}})");
    EXPECT_EQ(ok.result["S"], "s");
    EXPECT_EQ(ok.result["I"], 7);
    EXPECT_EQ(ok.result["L"], 9007199254740993LL);
    EXPECT_EQ(ok.result["F"], "NaN");
    EXPECT_EQ(ok.result["D"], -0.5);
    EXPECT_EQ(ok.result["B"], false);
    EXPECT_DOUBLE_EQ(ok.result["T"].get<double>(), 1576543698.5);
    EXPECT_EQ(ok.result["Bl"], "hi");
  }
}

TEST(ProtocolReview, InvalidUtf8InAnswersIsUnavailable) {
  for (const std::string protocol : {"query", "ec2"}) {
    SCOPED_TRACE(protocol);
    // EC2 answers have no result wrapper.
    const std::string body = protocol == "ec2" ? "<CreateThingResponse><Id>a\xff</Id></CreateThingResponse>"
                                               : "<CreateThingResponse><CreateThingResult><Id>a\xff</Id>"
                                                 "</CreateThingResult></CreateThingResponse>";
    auto e = error_of([&] { parse_response(thing_model(protocol), "CreateThing", HttpResponse{200, {}, body}); });
    EXPECT_TRUE(unavailable(e)) << e.second;
  }
  for (const std::string protocol : {"json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    auto e = error_of([&] { parse_response(thing_model(protocol), "CreateThing", HttpResponse{200, {}, "{\"Id\": \"a\xff\"}"}); });
    EXPECT_TRUE(unavailable(e)) << e.second;
    e = error_of([&] {
      parse_response(thing_model(protocol), "CreateThing", HttpResponse{200, {}, R"({"Id": "\ud800"})"});
    });
    EXPECT_TRUE(unavailable(e)) << e.second;
  }
}

TEST(ProtocolReview, ForeignErrorBodiesAreCutOnACharacterAndRepaired) {
  for (const std::string protocol : {"query", "ec2"}) {
    SCOPED_TRACE(protocol);
    // 255 ASCII bytes, then a two-byte character that would straddle byte 256.
    ParsedResponse parsed =
        parse_response(thing_model(protocol), "CreateThing", HttpResponse{502, {}, std::string(255, 'a') + "\xc3\xa9 tail"});
    EXPECT_EQ(parsed.error.message, std::string(255, 'a'));
    parsed = parse_response(thing_model(protocol), "CreateThing", HttpResponse{502, {}, "\xff\xfe page"});
    EXPECT_EQ(parsed.error.message, "\xef\xbf\xbd\xef\xbf\xbd page");
    EXPECT_NO_THROW(json(parsed.error.message).dump());
  }
}

TEST(ProtocolReview, NullListItemsAndMapValuesAreInvalid) {
  for (const std::string protocol : {"query", "ec2", "json", "rest-json"}) {
    SCOPED_TRACE(protocol);
    ServiceModel model = scalars_model(protocol);
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"List", {"a", nullptr}}}); }), "List[1]");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"Map", {{"k", nullptr}}}}); }), "Map.k");
  }
}

TEST(ProtocolReview, IntegersAreRangeCheckedByShape) {
  for (const std::string protocol : {"query", "json"}) {
    SCOPED_TRACE(protocol);
    ServiceModel model = scalars_model(protocol);
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"I", 2147483648LL}}); }), "I");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"I", -2147483649LL}}); }), "I");
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"L", 9223372036854775808ULL}}); }), "L");
    EXPECT_NO_THROW(serialize_request(model, "Echo", {{"I", -2147483648LL}, {"L", 9223372036854775807LL}}));
  }
}

TEST(ProtocolReview, TimestampsAreRangeAndCalendarChecked) {
  ServiceModel model = scalars_model("json");
  for (const json& bad : {json(1e300), json(-1e300), json(1e12), json(18446744073709551615ULL), json("2019-02-29T00:00:00Z"),
                          json("2020-04-31T00:00:00Z"), json("2019-12-16T25:00:00Z"), json("2019-12-16T23:60:00Z"),
                          json("2019-12-16T23:48:18+24:00"), json("2019-12-16T23:48:18.Z"), json("1e300")}) {
    EXPECT_EQ(invalid_field([&] { serialize_request(model, "Echo", {{"T", bad}}); }), "T") << bad;
  }
  // Leap days and offsets are fine.
  EXPECT_NO_THROW(serialize_request(model, "Echo", {{"T", "2020-02-29T00:00:00Z"}}));
  HttpRequest r = serialize_request(model, "Echo", {{"T", "2019-12-16T23:48:18.5-01:00"}});
  EXPECT_EQ(json::parse(r.body)["T"], 1576543698);
  // Answers: XML text and an HTTP-date header alike.
  auto e = error_of([&] {
    parse_response(scalars_model("query"), "Echo",
                   HttpResponse{200, {}, "<EchoResponse><EchoResult><T>2019-02-29T00:00:00Z</T></EchoResult></EchoResponse>"});
  });
  EXPECT_TRUE(unavailable(e)) << e.second;
  e = error_of([&] {
    parse_response(scalars_model("query"), "Echo",
                   HttpResponse{200, {}, "<EchoResponse><EchoResult><T>1e15</T></EchoResult></EchoResponse>"});
  });
  EXPECT_TRUE(unavailable(e)) << e.second;
  // The base parser keeps its exact form.
  EXPECT_EQ(parse_rfc3339("2019-12-16T23:48:18Z"), 1576540098);
  EXPECT_FALSE(parse_rfc3339("2019-02-30T23:48:18Z"));
  EXPECT_FALSE(parse_rfc3339("2019-12-16T23:48:1.Z"));
  EXPECT_FALSE(parse_rfc3339("2019-12-16 23:48:18Z"));
}

// GetThing: Name and Path+ in the URI, Hdr and Meta-* as headers; the
// answer's Hdr, When and Meta-* from headers.
ServiceModel rest_model() {
  return ServiceModel::parse(json::parse(R"({
    "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01"},
    "operations": {"GetThing": {"name": "GetThing", "http": {"method": "GET", "requestUri": "/things/{Name}/{Path+}"},
                   "input": {"shape": "In"}, "output": {"shape": "Out"}}},
    "shapes": {
      "In": {"type": "structure", "required": ["Name", "Path"], "members": {
        "Name": {"shape": "String", "location": "uri", "locationName": "Name"},
        "Path": {"shape": "String", "location": "uri", "locationName": "Path"},
        "Hdr": {"shape": "String", "location": "header", "locationName": "X-Hdr"},
        "Meta": {"shape": "StringMap", "location": "headers", "locationName": "X-Meta-"}}},
      "Out": {"type": "structure", "members": {
        "Hdr": {"shape": "String", "location": "header", "locationName": "X-Hdr"},
        "When": {"shape": "Timestamp", "location": "header", "locationName": "X-When"},
        "Meta": {"shape": "StringMap", "location": "headers", "locationName": "X-Meta-"}}},
      "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
      "String": {"type": "string"}, "Timestamp": {"type": "timestamp"}}})"));
}

TEST(ProtocolReview, UriLabelsRefuseEmptyAndDotSegments) {
  ServiceModel model = rest_model();
  auto get = [&](const std::string& name, const std::string& path) {
    return serialize_request(model, "GetThing", {{"Name", name}, {"Path", path}});
  };
  EXPECT_EQ(get("x", "a/b c/.d").path_and_query, "/things/x/a/b%20c/.d");
  EXPECT_EQ(get("a.b", "..x").path_and_query, "/things/a.b/..x");
  for (const char* name : {"", ".", ".."}) EXPECT_EQ(invalid_field([&] { get(name, "p"); }), "Name") << name;
  for (const char* path : {"", ".", "..", "a/../b", "a/./b", "../a", "a/.."})
    EXPECT_EQ(invalid_field([&] { get("x", path); }), "Path") << path;
}

TEST(ProtocolReview, HeaderValuesRefuseLineBreaksAndNul) {
  ServiceModel model = rest_model();
  auto get = [&](const json& extra) {
    json params = {{"Name", "x"}, {"Path", "p"}};
    params.update(extra);
    return serialize_request(model, "GetThing", params);
  };
  EXPECT_EQ(header_value(get({{"Hdr", "fine value"}}).headers, "X-Hdr"), "fine value");
  EXPECT_EQ(invalid_field([&] { get({{"Hdr", "a\r\nX-Evil: 1"}}); }), "Hdr");
  EXPECT_EQ(invalid_field([&] { get({{"Hdr", std::string("a\0b", 3)}}); }), "Hdr");
  EXPECT_EQ(invalid_field([&] { get({{"Meta", {{"k", "v\n"}}}}); }), "Meta.k");
  EXPECT_EQ(invalid_field([&] { get({{"Meta", {{"k\r\nX-Evil", "v"}}}}); }), "Meta.k\r\nX-Evil");
  EXPECT_EQ(invalid_field([&] { get({{"Meta", {{"k v", "v"}}}}); }), "Meta.k v");
}

TEST(ProtocolReview, RestJsonHeaderAnswersAreChecked) {
  ServiceModel model = rest_model();
  auto parse = [&](Headers headers) { return parse_response(model, "GetThing", HttpResponse{200, headers, ""}); };
  ParsedResponse ok = parse({{"x-hdr", ""}, {"X-When", "Tue, 29 Apr 2014 18:30:38 GMT"}, {"x-meta-a", "1"}});
  EXPECT_EQ(ok.result["Hdr"], "");  // present but empty is still present
  EXPECT_EQ(ok.result["When"], 1398796238);
  EXPECT_EQ(ok.result["Meta"], json({{"a", "1"}}));
  for (const Headers& bad : {Headers{{"X-Hdr", "a\xff"}}, Headers{{"X-When", "Sat, 31 Feb 2014 18:30:38 GMT"}},
                             Headers{{"X-Meta-a", "\xc0\x80"}}}) {
    auto e = error_of([&] { parse(bad); });
    EXPECT_TRUE(unavailable(e)) << e.second;
  }
}

}  // namespace
}  // namespace byoc::aws
