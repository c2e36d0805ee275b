// Parsing of SQLObject-style database URIs into SOCI connect strings. Connect-string values are
// always single-quoted with backslash escapes (the libpq and SOCI key=value syntax), so a password
// with spaces or quotes cannot add or change options.
#include "dispatcher/accounting/dburi.hpp"

#include <optional>

namespace mpx::dispatcher {
namespace {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return std::nullopt;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int high = hex(text[i + 1]);
    const int low = hex(text[i + 2]);
    if (high < 0 || low < 0) {
      return std::nullopt;
    }
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string connect_value(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '\'';
  return out;
}

struct NetworkUri {
  std::string user;
  std::string password;
  std::string host;
  std::string port;
  std::string database;
  bool has_password = false;
};

// rest = "user:pw@host:port/db" (after "scheme://"), query already removed.
Result<NetworkUri> parse_network(std::string_view rest, std::string_view dburi) {
  NetworkUri uri;
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 >= rest.size()) {
    return Error{"dburi " + std::string(dburi) +
                 ": no database name (expected SCHEME://USER:PASSWORD@HOST[:PORT]/DATABASE)"};
  }
  const auto authority = rest.substr(0, slash);
  const auto database = percent_decode(rest.substr(slash + 1));
  if (!database) {
    return Error{"dburi " + std::string(dburi) + ": bad %-escape in the database name"};
  }
  uri.database = *database;
  std::string_view hostport = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const auto credentials = authority.substr(0, at);
    hostport = authority.substr(at + 1);
    const auto colon = credentials.find(':');
    const auto user = percent_decode(credentials.substr(0, colon));
    if (!user) {
      return Error{"dburi " + std::string(dburi) + ": bad %-escape in the user name"};
    }
    uri.user = *user;
    if (colon != std::string_view::npos) {
      const auto password = percent_decode(credentials.substr(colon + 1));
      if (!password) {
        return Error{"dburi: bad %-escape in the password"};
      }
      uri.password = *password;
      uri.has_password = true;
    }
  }
  if (const auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    uri.port = std::string(hostport.substr(colon + 1));
    hostport = hostport.substr(0, colon);
    if (uri.port.empty() || uri.port.size() > 5 ||
        uri.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(uri.port) < 1 ||
        std::stoi(uri.port) > 65535) {
      return Error{"dburi " + std::string(dburi) + ": the port must be a number 1-65535"};
    }
  }
  uri.host = std::string(hostport);
  return uri;
}

std::string display_without_password(std::string_view dburi) {
  const auto scheme_end = dburi.find("://");
  const auto at = dburi.rfind('@');
  if (scheme_end == std::string_view::npos || at == std::string_view::npos || at < scheme_end) {
    return std::string(dburi);
  }
  const auto credentials = dburi.substr(scheme_end + 3, at - scheme_end - 3);
  const auto colon = credentials.find(':');
  if (colon == std::string_view::npos) {
    return std::string(dburi);
  }
  return std::string(dburi.substr(0, scheme_end + 3 + colon)) + ":***" +
         std::string(dburi.substr(at));
}

}  // namespace

std::string_view to_string(DatabaseKind kind) {
  switch (kind) {
    case DatabaseKind::sqlite:
      return "sqlite";
    case DatabaseKind::postgresql:
      return "postgresql";
    case DatabaseKind::mysql:
      return "mysql";
  }
  return "unknown";
}

std::filesystem::path default_sqlite_path(const std::filesystem::path& state_dir) {
  return state_dir / "mpx-accounting.sqlite";
}

Result<DatabaseTarget> parse_dburi(std::string_view dburi, const std::filesystem::path& base_dir) {
  const auto colon = dburi.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error{"dburi " + std::string(dburi) +
                 ": expected sqlite:///PATH, postgres://USER:PASSWORD@HOST/DATABASE or "
                 "mysql://USER:PASSWORD@HOST/DATABASE"};
  }
  const auto scheme = dburi.substr(0, colon);
  std::string_view rest = dburi.substr(colon + 1);
  if (const auto query = rest.find('?'); query != std::string_view::npos) {
    rest = rest.substr(0, query);
  }
  DatabaseTarget target;
  target.display = display_without_password(dburi);
  if (scheme == "sqlite") {
    // SQLObject: "sqlite:///abs" and "sqlite:/abs" are absolute; "sqlite:rel" is relative.
    std::string_view path = rest;
    if (path.starts_with("//")) {
      path.remove_prefix(2);
    }
    if (path.empty()) {
      return Error{"dburi " + std::string(dburi) + ": no database file (expected sqlite:///PATH)"};
    }
    const auto decoded = percent_decode(path);
    if (!decoded) {
      return Error{"dburi " + std::string(dburi) + ": bad %-escape in the path"};
    }
    std::filesystem::path file(*decoded);
    if (*decoded != ":memory:" && file.is_relative()) {
      file = base_dir / file;
    }
    // SOCI's SQLite back-end reads db="..." with no escapes: a double quote cannot be passed.
    if (file.string().find('"') != std::string::npos) {
      return Error{"dburi " + std::string(dburi) + ": the path must not contain a double quote"};
    }
    target.kind = DatabaseKind::sqlite;
    target.connect_string = "db=\"" + file.string() + "\" timeout=5";
    return target;
  }
  const bool postgres =
      scheme == "postgres" || scheme == "postgresql" || scheme == "psycopg" || scheme == "pgsql";
  const bool mysql = scheme == "mysql";
  if (!postgres && !mysql) {
    return Error{"dburi " + std::string(dburi) + ": unsupported scheme '" + std::string(scheme) +
                 "' (sqlite, postgres and mysql are supported)"};
  }
  if (!rest.starts_with("//")) {
    return Error{"dburi " + std::string(dburi) + ": expected " + std::string(scheme) +
                 "://USER:PASSWORD@HOST[:PORT]/DATABASE"};
  }
  auto parsed = parse_network(rest.substr(2), target.display);
  if (!parsed) {
    return parsed.error();
  }
  const auto& uri = parsed.value();
  std::string connect = "dbname=";
  if (mysql) {
    connect = "db=";
  }
  connect += connect_value(uri.database);
  if (!uri.host.empty()) {
    connect += " host=" + connect_value(uri.host);
  }
  if (!uri.port.empty()) {
    connect += " port=" + uri.port;
  }
  if (!uri.user.empty()) {
    connect += " user=" + connect_value(uri.user);
  }
  if (uri.has_password) {
    connect += " password=" + connect_value(uri.password);
  }
  if (postgres) {
    connect += " connect_timeout=10";
  }
  target.kind = postgres ? DatabaseKind::postgresql : DatabaseKind::mysql;
  target.connect_string = connect;
  return target;
}

}  // namespace mpx::dispatcher
