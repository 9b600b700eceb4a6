#include <gtest/gtest.h>

#include "base/crypto.h"
#include "server/tokens.h"

namespace byoc::server {
namespace {

TEST(Tokens, ApiTokenHasIdAnd32ByteSecretAndStoresOnlyHash) {
  NewToken t = make_api_token();
  auto parts = parse_api_token(t.text);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->id, t.id);
  EXPECT_EQ(parts->secret.size(), 43u);  // base64url of 32 bytes
  EXPECT_EQ(t.secret_sha256_hex, crypto::sha256_hex(parts->secret));
  EXPECT_EQ(t.text.find(t.secret_sha256_hex), std::string::npos);
  EXPECT_TRUE(secret_matches(parts->secret, t.secret_sha256_hex));
  EXPECT_FALSE(secret_matches(parts->secret + "x", t.secret_sha256_hex));
  EXPECT_FALSE(secret_matches("", t.secret_sha256_hex));
}

TEST(Tokens, TokensAreUnique) {
  EXPECT_NE(make_api_token().text, make_api_token().text);
}

TEST(Tokens, JoinTokenCarriesCaHash) {
  std::string hash(64, 'a');
  NewToken t = make_join_token(hash);
  auto parts = parse_join_token(t.text);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->ca_sha256_hex, hash);
  EXPECT_FALSE(parse_api_token(t.text));  // a join token is not a bearer token
  EXPECT_FALSE(parse_join_token(make_api_token().text));
}

TEST(Tokens, MalformedTokensAreRejected) {
  for (const char* bad : {"", "byoc_", "byoc_xyz.abc", "byoc_0123456789abcdef.short",
                          "Byoc_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "byoc_0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA extra"})
    EXPECT_FALSE(parse_api_token(bad)) << bad;
}

}  // namespace
}  // namespace byoc::server
