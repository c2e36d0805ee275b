// MediaProxy's `[Database] dburi` (SQLObject URI syntax, compat spec 7.5) turned into a SOCI
// back-end name and connect string: sqlite:///abs/path, sqlite:/abs/path, sqlite:relative/path
// (relative to a base directory), postgres://user:pw@host[:port]/db (also postgresql://) and
// mysql://user:pw@host[:port]/db. User and password are percent-decoded as SQLObject does; a
// query string (?charset=... and the like) is accepted and ignored.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace mpx::dispatcher {

enum class DatabaseKind { sqlite, postgresql, mysql };

struct DatabaseTarget {
  DatabaseKind kind = DatabaseKind::sqlite;
  std::string connect_string;  // for SOCI's back-end of `kind`
  std::string display;         // the URI without its password, for log lines
};

// `base_dir` anchors relative sqlite paths (the dispatcher's state directory).
Result<DatabaseTarget> parse_dburi(std::string_view dburi, const std::filesystem::path& base_dir);

// The default when `database` accounting is on and dburi is empty: SQLite in the state directory.
std::filesystem::path default_sqlite_path(const std::filesystem::path& state_dir);

std::string_view to_string(DatabaseKind kind);

}  // namespace mpx::dispatcher
