// The RADIUS accounting back-end (compat spec 8.2, issue 8 item 2): one Accounting-Request
// (Acct-Status-Type Update, as MediaProxy sends) per ended session, with MediaProxy's attributes
// (radius_attributes.hpp), through radcli (radius_client.hpp).
//
// A thin adapter on the shared DeliveryWorker (delivery_worker.hpp: spool writer and delivery
// threads, back-off, counters, failure/recovery log lines); what is its own is how to send one
// record: the statistics JSON (the spool's `info`) is decoded, mapped to MediaProxy's attributes
// and sent. An Accounting-Response is `delivered`; a timeout or a network error is `retry` (the
// record waits, in order); an answer that is not a response (bad authenticator: a wrong secret) or
// a record radcli cannot encode is `rejected` (logged in full, dropped), as before the spool.
//
// Durable spool (issue 8 items 3-4): records go through <spool dir>/radius, the same record files
// as the database's, and each file is deleted right after the server's Accounting-Response. RADIUS
// has no idempotent insert: a crash between the server's answer and the delete (a few
// microseconds, no fsync on the delete path) sends that record once more after the restart; so
// does a response lost on the network after the server logged the request (radcli then times out
// and the worker retries). A FreeRADIUS that stores accounting through rlm_sql keeps one row: its
// default acct_unique policy hashes User-Name, Acct-Session-Id and NAS-IP-Address (identical in a
// replay) into Acct-Unique-Session-Id, and its Interim-Update query (Acct-Status-Type 3 is what
// MediaProxy sends) updates the row with that id before inserting one. (Not tested here: the
// integration test reads FreeRADIUS's detail file, which logs every request, replays included.)
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/config/config.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
#include "dispatcher/accounting/accounting_spool.hpp"
#include "dispatcher/accounting/delivery_worker.hpp"
#include "dispatcher/accounting/radius_attributes.hpp"
#include "dispatcher/accounting/radius_client.hpp"

namespace mpx::dispatcher {

struct RadiusBackendSettings {
  RadiusClientSettings client;
  std::size_t queue_limit = 100000;
  std::chrono::milliseconds retry_initial{500};
  std::chrono::milliseconds retry_max{30000};
};

// From the [Radius] section: relative paths are taken from config_dir (MediaProxy looks its files
// up in its configuration directory). An additional_dictionary that is not there falls back to
// `bundled_dictionary` (mpx's installed dictionary.mediaproxy) when that exists; with neither, the
// error names both.
Result<RadiusBackendSettings> radius_backend_settings(const config::RadiusConfig& radius,
                                                      const std::filesystem::path& config_dir,
                                                      const std::filesystem::path& bundled_dictionary);

// Where mpx installs its dictionary (share/mpx/radius/dictionary.mediaproxy under the prefix).
std::filesystem::path bundled_radius_dictionary();

struct RadiusRecord {
  std::string call_id;
  std::string from_tag;
  std::vector<RadiusAttribute> attributes;
  std::string info;  // the statistics JSON, logged when the record is lost
};

RadiusRecord radius_record(const protocol::SessionStatistics& session);

// The "send one record" half of the RADIUS back-end, on the worker's delivery thread.
class RadiusRecordDelivery final : public RecordDelivery {
 public:
  explicit RadiusRecordDelivery(std::unique_ptr<RadiusClient> client);
  DeliveryResult deliver(const AccountingRow& row) override;
  std::string target() const override { return client_->server(); }

 private:
  std::unique_ptr<RadiusClient> client_;
};

class RadiusAccountingBackend final : public AccountingBackend {
 public:
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;
  };
  // Called on the delivery thread after each record the server answered.
  using DeliveredCallback = DeliveryWorker::DeliveredCallback;

  // Starts the worker threads (start it after daemonizing: threads do not survive fork). Memory
  // only.
  RadiusAccountingBackend(std::unique_ptr<RadiusClient> client, RadiusBackendSettings settings,
                          DeliveredCallback delivered = nullptr);
  // The same, durable: records go through `spool` (records of a previous run are sent first).
  RadiusAccountingBackend(std::unique_ptr<RadiusClient> client, RadiusBackendSettings settings,
                          std::unique_ptr<RecordSpool> spool, DeliveredCallback delivered = nullptr);

  const char* name() const override { return "radius"; }
  // Never waits for the disk or the network.
  void record(const protocol::SessionStatistics& session) override;

  // True once every record was spooled and sent (or dropped) (false on timeout).
  bool wait_until_idle(std::chrono::milliseconds timeout);
  Counters counters() const;
  std::optional<AccountingBackendStatus> status() const override;
  // The last delivery error, "" while all is well.
  std::string last_error() const;

 private:
  DeliveryWorker worker_;
};

}  // namespace mpx::dispatcher
