// The agent's versions.json parser: what it accepts, and that every refusal
// names the field at fault.
#include "agent/versions.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "base/files.h"
#include "testing/testing.h"

namespace byoc::agent {
namespace {

const std::string kDigest = std::string(64, 'a');

// The field a refusal of `text` names ("" if none was refused).
std::string refused_field(const std::string& text) {
  try {
    parse_versions(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalid);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "one line";
    if (!e.field().empty()) EXPECT_NE(std::string(e.what()).find(e.field()), std::string::npos) << e.what();
    return e.field().empty() ? "(whole)" : e.field();
  }
  return "";
}

TEST(VersionsTest, ParsesBinariesAndImagesByDigest) {
  VersionList list = parse_versions(
      R"({"clickhouse":{"18.16.1":{"binary":"/usr/sbin/clickhouse-server"},)"
      R"("18.16.1-r2":{"binary":"/usr/sbin/clickhouse-server","config_revision":"r2"},)"
      R"("24.3":{"image":"registry.example:5000/ch/clickhouse-server@sha256:)" + kDigest + R"("}}})");
  ASSERT_EQ(list.clickhouse.size(), 3u);
  EXPECT_EQ(*list.find("18.16.1"), (ClickHouseVersion{"/usr/sbin/clickhouse-server", "", ""}));
  EXPECT_EQ(list.find("18.16.1-r2")->config_revision, "r2");
  EXPECT_EQ(list.find("24.3")->image, "registry.example:5000/ch/clickhouse-server@sha256:" + kDigest);
  EXPECT_EQ(list.find("24.4"), nullptr);
  // One list for either runtime: an entry may name both (each runtime reads its own).
  VersionList both = parse_versions(R"({"clickhouse":{"18.16.1":{"binary":"/usr/sbin/clickhouse-server",)"
                                    R"("image":"docker.io/yandex/clickhouse-server@sha256:)" + kDigest + R"("}}})");
  EXPECT_EQ(*both.find("18.16.1"),
            (ClickHouseVersion{"/usr/sbin/clickhouse-server", "docker.io/yandex/clickhouse-server@sha256:" + kDigest, ""}));
}

TEST(VersionsTest, DefaultsToDebiansClickHouseWithoutAFile) {
  testing::TempDir dir;
  EXPECT_EQ(load_versions(dir.path() / "versions.json"), default_versions());
  EXPECT_EQ(default_versions().find("18.16.1")->binary, "/usr/sbin/clickhouse-server");
}

TEST(VersionsTest, EveryRefusalNamesItsField) {
  EXPECT_EQ(refused_field("not json"), "(whole)");
  EXPECT_EQ(refused_field("[]"), "(whole)");
  EXPECT_EQ(refused_field(R"({})"), "clickhouse");
  EXPECT_EQ(refused_field(R"({"clickhouse":{}})"), "clickhouse");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/x"}},"kafka":{}})"), "kafka");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"-1":{"binary":"/x"}}})"), "clickhouse.-1");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"a b":{"binary":"/x"}}})"), "clickhouse.a b");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":"/x"}})"), "clickhouse.1");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{}}})"), "clickhouse.1");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/x","path":"/y"}}})"), "clickhouse.1.path");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"usr/sbin/clickhouse"}}})"), "clickhouse.1.binary");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/usr/../bin/sh"}}})"), "clickhouse.1.binary");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/usr/bin/x;rm"}}})"), "clickhouse.1.binary");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":7}}})"), "clickhouse.1.binary");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"image":"clickhouse/clickhouse-server:24.3"}}})"),
            "clickhouse.1.image");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"image":"ch@sha256:abc"}}})"), "clickhouse.1.image");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"image":"ch@sha256:)" + std::string(64, 'A') + R"("}}})"),
            "clickhouse.1.image");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/x","config_revision":"r<2>"}}})"),
            "clickhouse.1.config_revision");
  EXPECT_EQ(refused_field(R"({"clickhouse":{"1":{"binary":"/x","config_revision":""}}})"),
            "clickhouse.1.config_revision");
}

TEST(VersionsTest, ABadFileIsRefusedNamingTheFile) {
  testing::TempDir dir;
  files::write_atomic(dir.path() / "versions.json", R"({"clickhouse":{"1":{"binary":"relative"}}})", 0600);
  try {
    load_versions(dir.path() / "versions.json");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("versions.json"), std::string::npos) << e.what();
    EXPECT_EQ(e.field(), "clickhouse.1.binary");
  }
}

}  // namespace
}  // namespace byoc::agent
