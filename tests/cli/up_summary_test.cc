#include "cli/up_summary.h"

#include <gtest/gtest.h>

namespace byoc::cli {
namespace {

TEST(ShellQuote, LeavesPlainWordsAndQuotesTheRest) {
  EXPECT_EQ(shell_quote("default:abc-DEF_1"), "default:abc-DEF_1");
  EXPECT_EQ(shell_quote("/tmp/my dir/ca.pem"), "'/tmp/my dir/ca.pem'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("$(rm)"), "'$(rm)'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(RenderUpSummary, FirstRunShowsThePassword) {
  UpSummary s;
  s.endpoint = "https://127.0.0.1:40123";
  s.password = "pw1";
  s.password_file = "/d/demo.password";
  s.ca_file = "/d/demo-ca.pem";
  std::string out = render_up_summary(s);
  EXPECT_EQ(
      out.rfind(
          "ready\nendpoint: https://127.0.0.1:40123\nuser: default\npassword: pw1\nca: /d/demo-ca.pem\n", 0),
      0u)
      << out;
  EXPECT_NE(out.find("  curl --cacert /d/demo-ca.pem --user default:pw1 --data-binary 'SELECT 1' "
                     "https://127.0.0.1:40123/\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("no native TLS endpoint"), std::string::npos) << out;
}

TEST(RenderUpSummary, LaterRunsPointAtThePasswordFile) {
  UpSummary s;
  s.endpoint = "https://127.0.0.1:40123";
  s.password_file = "/d/demo.password";
  s.ca_file = "/d/demo-ca.pem";
  std::string out = render_up_summary(s);
  EXPECT_NE(out.find("\npassword: (shown at first start; saved in /d/demo.password)\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("--user \"default:$(cat /d/demo.password)\""), std::string::npos) << out;
}

TEST(RenderUpSummary, NativeEndpointGivesAClickhouseClientCommand) {
  UpSummary s;
  s.endpoint = "https://127.0.0.1:1";
  s.password = "pw";
  s.password_file = "/d/demo.password";
  s.ca_file = "/d/demo-ca.pem";
  s.native_endpoint = "127.0.0.1:9440";
  s.client_config = "/d/clickhouse-client.xml";
  std::string out = render_up_summary(s);
  EXPECT_NE(out.find("  clickhouse-client --config-file /d/clickhouse-client.xml --secure --host 127.0.0.1 "
                     "--port 9440 --user default --password pw\n"),
            std::string::npos)
      << out;
}

TEST(RenderUpSummary, WithoutCaSaysSo) {
  UpSummary s;
  s.endpoint = "https://127.0.0.1:1";
  s.password = "pw";
  std::string out = render_up_summary(s);
  EXPECT_NE(out.find("  curl --user default:pw "), std::string::npos) << out;
  EXPECT_NE(out.find("published no CA"), std::string::npos) << out;
}

TEST(ClickhouseClientConfig, TrustsOnlyTheGivenCa) {
  std::string xml = render_clickhouse_client_config("/d/a&b/ca.pem");
  EXPECT_NE(xml.find("<caConfig>/d/a&amp;b/ca.pem</caConfig>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<loadDefaultCAFile>false</loadDefaultCAFile>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("RejectCertificateHandler"), std::string::npos) << xml;
}

}  // namespace
}  // namespace byoc::cli
