#include "cli/api_client.h"

#include <gtest/gtest.h>

namespace byoc::cli {
namespace {

TEST(ErrorFromResponse, UsesTheApiErrorBody) {
  Error e = error_from_response(
      422, R"({"error":{"code":"invalid_cidr","message":"cidr must be private","field":"cidr"}})", "POST /x");
  EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
  EXPECT_EQ(e.code(), "invalid_cidr");
  EXPECT_STREQ(e.what(), "cidr must be private");
  EXPECT_EQ(e.field(), "cidr");
}

TEST(ErrorFromResponse, MapsStatusesToKinds) {
  EXPECT_EQ(error_from_response(401, "", "GET /").kind(), ErrorKind::kUnauthenticated);
  EXPECT_EQ(error_from_response(404, "", "GET /").kind(), ErrorKind::kNotFound);
  EXPECT_EQ(error_from_response(409, "", "GET /").kind(), ErrorKind::kConflict);
  EXPECT_EQ(error_from_response(503, "", "GET /").kind(), ErrorKind::kUnavailable);
  EXPECT_EQ(error_from_response(500, "", "GET /").kind(), ErrorKind::kInternal);
}

TEST(ErrorFromResponse, NonJsonBodyNamesStatusAndRequest) {
  Error e = error_from_response(502, "<html>bad gateway</html>", "GET /v1/environments");
  EXPECT_STREQ(e.what(), "the server answered GET /v1/environments with HTTP 502");
  EXPECT_EQ(e.field(), "");
}

TEST(ErrorFromResponse, CodeWithoutMessageStillReadable) {
  Error e = error_from_response(409, R"({"error":{"code":"has_services"}})", "DELETE /v1/environments/e1");
  EXPECT_STREQ(e.what(), "has_services");
}

TEST(PathSegment, EscapesEverythingButUnreserved) {
  EXPECT_EQ(path_segment("demo-1.x_y~"), "demo-1.x_y~");
  EXPECT_EQ(path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(path_segment("../x"), "..%2Fx");
  EXPECT_EQ(path_segment("a b?c#"), "a%20b%3Fc%23");
}

}  // namespace
}  // namespace byoc::cli
