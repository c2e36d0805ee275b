// The RADIUS back-end's settings and its "send one record"; the queueing, spooling and retrying are
// the shared DeliveryWorker's.
#include "dispatcher/accounting/radius_backend.hpp"

#include <spdlog/spdlog.h>

#include <system_error>
#include <utility>

#ifndef MPX_RADIUS_DICTIONARY_DIR
#define MPX_RADIUS_DICTIONARY_DIR "/usr/local/share/mpx/radius"
#endif

namespace mpx::dispatcher {

namespace {

bool is_file(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error);
}

std::filesystem::path from_config_dir(const std::filesystem::path& path,
                                      const std::filesystem::path& config_dir) {
  return path.is_relative() ? config_dir / path : path;
}

}  // namespace

std::filesystem::path bundled_radius_dictionary() {
  return std::filesystem::path(MPX_RADIUS_DICTIONARY_DIR) / "dictionary.mediaproxy";
}

Result<RadiusBackendSettings> radius_backend_settings(const config::RadiusConfig& radius,
                                                      const std::filesystem::path& config_dir,
                                                      const std::filesystem::path& bundled_dictionary) {
  RadiusBackendSettings settings;
  settings.client.config_file = from_config_dir(radius.config_file, config_dir);
  if (!is_file(settings.client.config_file)) {
    return Error{"[Radius] config_file " + settings.client.config_file.string() +
                 ": no such file (radius accounting needs a radiusclient-ng style client.conf)"};
  }
  if (!radius.additional_dictionary.empty()) {
    auto dictionary = from_config_dir(radius.additional_dictionary, config_dir);
    if (!is_file(dictionary)) {
      if (bundled_dictionary.empty() || !is_file(bundled_dictionary)) {
        return Error{"[Radius] additional_dictionary " + dictionary.string() +
                     ": no such file (nor mpx's bundled " + bundled_dictionary.string() + ")"};
      }
      dictionary = bundled_dictionary;
    }
    settings.client.additional_dictionary = dictionary;
  }
  return settings;
}

RadiusRecord radius_record(const protocol::SessionStatistics& session) {
  return RadiusRecord{session.call_id, session.from_tag, radius_attributes(session),
                      protocol::to_json(session)};
}

RadiusRecordDelivery::RadiusRecordDelivery(std::unique_ptr<RadiusClient> client)
    : client_(std::move(client)) {}

DeliveryResult RadiusRecordDelivery::deliver(const AccountingRow& row) {
  auto session = protocol::session_statistics_from_json(row.info);
  if (!session) {
    return DeliveryResult{DeliveryOutcome::rejected,
                          "not a session's statistics: " + session.error().message};
  }
  auto result = client_->send(radius_attributes(session.value()));
  if (!result) {
    return DeliveryResult{DeliveryOutcome::rejected, result.error().message};
  }
  switch (result.value().outcome) {
    case RadiusSendOutcome::accepted:
      return {};
    case RadiusSendOutcome::refused:
      return DeliveryResult{DeliveryOutcome::rejected, result.value().detail};
    case RadiusSendOutcome::timed_out:
      break;
  }
  return DeliveryResult{DeliveryOutcome::retry, result.value().detail};
}

namespace {

DeliveryWorkerSettings worker_settings(const RadiusBackendSettings& settings) {
  return DeliveryWorkerSettings{"radius", settings.queue_limit, settings.retry_initial,
                                settings.retry_max};
}

}  // namespace

RadiusAccountingBackend::RadiusAccountingBackend(std::unique_ptr<RadiusClient> client,
                                                 RadiusBackendSettings settings,
                                                 DeliveredCallback delivered)
    : RadiusAccountingBackend(std::move(client), std::move(settings), nullptr,
                              std::move(delivered)) {}

RadiusAccountingBackend::RadiusAccountingBackend(std::unique_ptr<RadiusClient> client,
                                                 RadiusBackendSettings settings,
                                                 std::unique_ptr<RecordSpool> spool,
                                                 DeliveredCallback delivered)
    : worker_(worker_settings(settings), std::make_unique<RadiusRecordDelivery>(std::move(client)),
              std::move(spool), std::move(delivered)) {}

void RadiusAccountingBackend::record(const protocol::SessionStatistics& session) {
  // The spool's record: the key and the statistics JSON, from which the attributes are rebuilt.
  worker_.enqueue(AccountingRow{session.call_id, session.from_tag, session.to_tag,
                                protocol::to_json(session)});
}

bool RadiusAccountingBackend::wait_until_idle(std::chrono::milliseconds timeout) {
  return worker_.wait_until_idle(timeout);
}

RadiusAccountingBackend::Counters RadiusAccountingBackend::counters() const {
  const auto counters = worker_.counters();
  return Counters{counters.delivered + counters.duplicates, counters.dropped};
}

std::string RadiusAccountingBackend::last_error() const { return worker_.last_error(); }

std::optional<AccountingBackendStatus> RadiusAccountingBackend::status() const {
  return worker_.status();
}

}  // namespace mpx::dispatcher
