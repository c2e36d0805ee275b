// The radcli side of RADIUS accounting: reads the radiusclient-ng style client.conf ([Radius]
// config_file, compat spec 7.6: acctserver host[:port], servers secrets file, dictionary,
// radius_timeout, radius_retries, bindaddr) and the additional dictionary (MediaProxy's
// attributes), checks that every attribute the mapping uses is in the dictionaries, and sends one
// Accounting-Request per session. Not thread-safe: the back-end's worker thread owns it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dispatcher/accounting/radius_attributes.hpp"

struct rc_conf;  // radcli's rc_handle

namespace mpx::dispatcher {

struct RadiusClientSettings {
  std::filesystem::path config_file;            // client.conf
  std::filesystem::path additional_dictionary;  // empty: none
};

enum class RadiusSendOutcome {
  accepted,   // Accounting-Response received
  timed_out,  // no answer after radius_timeout x radius_retries, or a network error: try again
  refused,    // the server answered with something else (bad authenticator: wrong secret)
};

struct RadiusSendResult {
  RadiusSendOutcome outcome;
  std::string detail;  // why, for logs ("" when accepted)
};

class RadiusClient {
 public:
  // Fails with one clear message: a missing or unreadable file, a radcli configuration error, or
  // dictionaries that lack an attribute MediaProxy's mapping sends.
  static Result<std::unique_ptr<RadiusClient>> open(const RadiusClientSettings& settings);
  ~RadiusClient();
  RadiusClient(const RadiusClient&) = delete;
  RadiusClient& operator=(const RadiusClient&) = delete;

  // Builds the request from `attributes` (names looked up in the dictionaries) and sends it,
  // waiting for the answer (radcli retransmits as radius_timeout / radius_retries say). An
  // attribute radcli cannot encode is an error value: the record itself is at fault.
  Result<RadiusSendResult> send(const std::vector<RadiusAttribute>& attributes);

  // "host:port" of the accounting server, for logs.
  const std::string& server() const { return server_; }

 private:
  explicit RadiusClient(rc_conf* handle, std::string server);
  rc_conf* handle_;
  std::string server_;
};

// The names radius_attributes() may emit; open() checks each is in the dictionaries.
const std::vector<std::string>& radius_attribute_names();

}  // namespace mpx::dispatcher
