// The synchronous side of database accounting: one SOCI session to the accounting database, the
// table's DDL in MediaProxy's schema (compat spec 8.1) for each dialect, and the idempotent insert
// of one record. Every call may block on the network: only the database back-end's worker thread
// uses a DatabaseWriter, never the dispatcher's event loop.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "dispatcher/accounting/dburi.hpp"

namespace soci {
class session;
}

namespace mpx::dispatcher {

// [Database] sessions_table and the *_column options (names already checked by the config).
struct AccountingTable {
  std::string table = "media_sessions";
  std::string callid_column = "call_id";
  std::string fromtag_column = "from_tag";
  std::string totag_column = "to_tag";
  std::string info_column = "info";
};

// One accounting row: the key and the full statistics JSON (spec 3.4 plus the dispatcher's keys).
struct AccountingRow {
  std::string call_id;
  std::string from_tag;
  std::optional<std::string> to_tag;
  std::string info;
};

// The statements that create the table and its unique key `callid_idx` (`<table>_callid_idx` for a
// table with another name, as index names are per schema in SQLite and PostgreSQL), joined with
// "; ": what the error line asks an administrator to run by hand.
std::string accounting_table_ddl(DatabaseKind kind, const AccountingTable& table);

// False for mysql when this build's SOCI has no MySQL back-end.
bool database_kind_supported(DatabaseKind kind);

enum class InsertOutcome { inserted, duplicate };

class DatabaseWriter {
 public:
  DatabaseWriter(DatabaseTarget target, AccountingTable table);
  ~DatabaseWriter();
  DatabaseWriter(const DatabaseWriter&) = delete;
  DatabaseWriter& operator=(const DatabaseWriter&) = delete;

  // Connects and runs CREATE TABLE / INDEX IF NOT EXISTS. A connection failure says so; a failure
  // to create the table is one line ending with the DDL to run by hand.
  Result<void> open();
  bool is_open() const { return session_ != nullptr; }
  void close();

  // Inserts the row unless a row with the same (call_id, from_tag, to_tag) exists: a record that
  // is delivered twice (a retry after a lost answer, a spool replay) is stored once.
  Result<InsertOutcome> insert(const AccountingRow& row);

  // A cheap round trip: tells a broken connection from an error that is the record's own.
  bool connection_alive();

  const DatabaseTarget& target() const { return target_; }

 private:
  Result<void> create_table();

  DatabaseTarget target_;
  AccountingTable table_;
  std::unique_ptr<soci::session> session_;
};

}  // namespace mpx::dispatcher
