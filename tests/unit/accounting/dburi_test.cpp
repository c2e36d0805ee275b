// parse_dburi: MediaProxy's SQLObject URIs to SOCI connect strings, without leaking passwords.
#include "dispatcher/accounting/dburi.hpp"

#include <gtest/gtest.h>

namespace mpx::dispatcher {
namespace {

TEST(Dburi, SqliteAbsoluteForms) {
  auto three = parse_dburi("sqlite:///var/lib/mpx/acct.db", "/state");
  ASSERT_TRUE(three.has_value()) << three.error().message;
  EXPECT_EQ(three.value().kind, DatabaseKind::sqlite);
  EXPECT_EQ(three.value().connect_string, "db=\"/var/lib/mpx/acct.db\" timeout=5");
  auto one = parse_dburi("sqlite:/var/lib/mpx/acct.db", "/state");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one.value().connect_string, three.value().connect_string);
}

TEST(Dburi, SqliteRelativePathIsUnderTheStateDirectory) {
  auto relative = parse_dburi("sqlite:acct.db", "/run/mediaproxy");
  ASSERT_TRUE(relative.has_value());
  EXPECT_EQ(relative.value().connect_string, "db=\"/run/mediaproxy/acct.db\" timeout=5");
  EXPECT_EQ(default_sqlite_path("/run/mediaproxy").string(),
            "/run/mediaproxy/mpx-accounting.sqlite");
}

TEST(Dburi, PostgresWithPortAndEscapedPasswordIsQuotedAndHiddenInDisplay) {
  auto pg = parse_dburi("postgres://mpx:p%40ss%27w@db.example:5433/acct?sslmode=x", "/");
  ASSERT_TRUE(pg.has_value()) << pg.error().message;
  EXPECT_EQ(pg.value().kind, DatabaseKind::postgresql);
  EXPECT_EQ(pg.value().connect_string,
            "dbname='acct' host='db.example' port=5433 user='mpx' password='p@ss\\'w' "
            "connect_timeout=10");
  EXPECT_EQ(pg.value().display.find("p%40ss"), std::string::npos);
  EXPECT_NE(pg.value().display.find(":***@db.example"), std::string::npos);
}

TEST(Dburi, MysqlConnectString) {
  auto my = parse_dburi("mysql://root:secret@localhost/mediaproxy", "/");
  ASSERT_TRUE(my.has_value());
  EXPECT_EQ(my.value().kind, DatabaseKind::mysql);
  EXPECT_EQ(my.value().connect_string,
            "db='mediaproxy' host='localhost' user='root' password='secret'");
}

TEST(Dburi, BadUrisAreClearErrors) {
  EXPECT_NE(parse_dburi("oracle://u@h/db", "/").error().message.find("unsupported scheme"),
            std::string::npos);
  EXPECT_NE(parse_dburi("postgres://u@h", "/").error().message.find("no database name"),
            std::string::npos);
  EXPECT_NE(parse_dburi("postgres://u@h:99999/db", "/").error().message.find("port"),
            std::string::npos);
  EXPECT_FALSE(parse_dburi("sqlite:", "/").has_value());
  EXPECT_FALSE(parse_dburi("nonsense", "/").has_value());
  EXPECT_FALSE(parse_dburi("postgres://u:%zz@h/db", "/").has_value());
}

}  // namespace
}  // namespace mpx::dispatcher
