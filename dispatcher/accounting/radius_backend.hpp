// The RADIUS accounting back-end (compat spec 8.2, issue 8 item 2): one Accounting-Request
// (Acct-Status-Type Update, as MediaProxy sends) per ended session, with MediaProxy's attributes
// (radius_attributes.hpp), through radcli (radius_client.hpp).
//
// record() never blocks on the network: it maps the session to its attribute list and appends a
// RadiusRecord to a bounded in-memory queue; one worker thread owns the RadiusClient and sends
// records in order. A record whose request times out (or cannot be sent) stays at the front of the
// queue and is retried with a capped back-off, so a RADIUS server that is down loses nothing while
// the queue has room; a record the server refuses (bad authenticator, i.e. a wrong secret) or that
// radcli cannot encode is logged in full and dropped; a record that finds the queue full is logged
// in full and dropped. Errors are logged once per distinct error, not once per retry. At shutdown
// the worker sends what the server still takes, stops at the first timeout, and the records left
// are logged in full.
//
// Durable spool (issue 8 item 4): the shape matches DatabaseAccountingBackend so the spool can sit
// in front of this class the same way. The seam is enqueue(): the spool appends each record to disk
// first (RadiusRecord carries the statistics JSON, from which radius_record() rebuilds it) and
// feeds enqueue(), on start-up with the records a previous run left; the delivered callback tells
// it which record to delete. RADIUS has no idempotent insert: a crash between the server's answer
// and the spool's delete sends that record again (the server's accounting keys on Acct-Session-Id
// plus Sip-From-Tag/Sip-To-Tag, so a CDR store that upserts on them stores it once).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/config/config.hpp"
#include "common/protocol/session_statistics.hpp"
#include "common/result.hpp"
#include "dispatcher/accounting/accounting.hpp"
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

class RadiusAccountingBackend final : public AccountingBackend {
 public:
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t dropped = 0;
  };
  // Called on the worker thread after each record leaves the queue because the server answered.
  using DeliveredCallback = std::function<void(const RadiusRecord&)>;

  // Starts the worker thread (start it after daemonizing: threads do not survive fork).
  RadiusAccountingBackend(std::unique_ptr<RadiusClient> client, RadiusBackendSettings settings,
                          DeliveredCallback delivered = nullptr);
  ~RadiusAccountingBackend() override;
  RadiusAccountingBackend(const RadiusAccountingBackend&) = delete;
  RadiusAccountingBackend& operator=(const RadiusAccountingBackend&) = delete;

  const char* name() const override { return "radius"; }
  void record(const protocol::SessionStatistics& session) override;
  void enqueue(RadiusRecord record);

  // True once the queue is empty and no record is being sent (false on timeout).
  bool wait_until_idle(std::chrono::milliseconds timeout);
  Counters counters() const;
  // The last delivery error, "" while all is well.
  std::string last_error() const;

 private:
  void run();
  void note_error(const std::string& message);
  bool sleep_unless_stopped(std::chrono::milliseconds delay);

  std::unique_ptr<RadiusClient> client_;  // worker thread only
  RadiusBackendSettings settings_;
  DeliveredCallback delivered_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<RadiusRecord> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  Counters counters_;
  std::string last_error_;
  std::thread worker_;
};

}  // namespace mpx::dispatcher
