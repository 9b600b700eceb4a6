#include "render/validate.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace byoc::render {
namespace {

TEST(Validate, IpOrCidr) {
  for (const char* ok : {"127.0.0.1", "127.0.0.1/32", "10.0.0.0/8", "0.0.0.0/0", "::1", "::1/128",
                         "2001:db8::/32", "10.1.2.3/24"})
    EXPECT_TRUE(is_ip_or_cidr(ok)) << ok;
  for (const char* bad : {"", "localhost", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/-1",
                          "10.0.0.0/8 ", "10.0.0/8", "1.2.3.4/0x8", "10.0.0.0/8;", "::1/1280"})
    EXPECT_FALSE(is_ip_or_cidr(bad)) << bad;
}

TEST(Validate, Paths) {
  EXPECT_NO_THROW(require_absolute_dir("/a/b-c/d_e.f/", "f"));
  EXPECT_NO_THROW(require_absolute_path("/a/b", "f"));
  EXPECT_THROW(require_absolute_dir("/a/b", "f"), Error);
  EXPECT_THROW(require_absolute_path("a/b", "f"), Error);
  EXPECT_THROW(require_absolute_path("/a b", "f"), Error);
  EXPECT_THROW(require_absolute_path("/a/../b", "f"), Error);
  EXPECT_THROW(require_absolute_path("/a/\"b", "f"), Error);
  EXPECT_THROW(require_absolute_path("", "f"), Error);
}

TEST(Validate, Sha256Hex) {
  EXPECT_NO_THROW(require_sha256_hex(std::string(64, 'f'), "f"));
  EXPECT_THROW(require_sha256_hex(std::string(63, 'f'), "f"), Error);
  EXPECT_THROW(require_sha256_hex(std::string(64, 'F'), "f"), Error);
}

TEST(Validate, Identifier) {
  EXPECT_NO_THROW(require_identifier("orders-eu_1", "f"));
  EXPECT_THROW(require_identifier("1orders", "f"), Error);
  EXPECT_THROW(require_identifier("a<b", "f"), Error);
  EXPECT_THROW(require_identifier(std::string(64, 'a'), "f"), Error);
}

TEST(Validate, XmlEscape) { EXPECT_EQ(xml_escape("a&<>\"'b"), "a&amp;&lt;&gt;&quot;&apos;b"); }

}  // namespace
}  // namespace byoc::render
