// The RADIUS back-end's settings, queue and worker thread. Records are sent in arrival order; the
// front record stays in the queue until the server answers it (or it is dropped for a reason of
// its own), so a server outage never loses it.
#include "dispatcher/accounting/radius_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
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

RadiusAccountingBackend::RadiusAccountingBackend(std::unique_ptr<RadiusClient> client,
                                                 RadiusBackendSettings settings,
                                                 DeliveredCallback delivered)
    : client_(std::move(client)), settings_(std::move(settings)), delivered_(std::move(delivered)) {
  worker_ = std::thread([this] { run(); });
}

RadiusAccountingBackend::~RadiusAccountingBackend() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) {
    worker_.join();
  }
  for (const auto& record : queue_) {
    spdlog::error("radius accounting: not delivered at shutdown, call_id {}: {}", record.call_id,
                  record.info);
  }
}

void RadiusAccountingBackend::record(const protocol::SessionStatistics& session) {
  enqueue(radius_record(session));
}

void RadiusAccountingBackend::enqueue(RadiusRecord record) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= settings_.queue_limit) {
      ++counters_.dropped;
      spdlog::error("radius accounting: queue full ({} records), record dropped, call_id {}: {}",
                    queue_.size(), record.call_id, record.info);
      return;
    }
    queue_.push_back(std::move(record));
  }
  wake_.notify_one();
}

bool RadiusAccountingBackend::wait_until_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

RadiusAccountingBackend::Counters RadiusAccountingBackend::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

std::string RadiusAccountingBackend::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

void RadiusAccountingBackend::note_error(const std::string& message) {
  std::lock_guard lock(mutex_);
  // One line per new problem, not one per retry.
  if (message != last_error_) {
    spdlog::error("radius accounting: {}", message);
  }
  last_error_ = message;
}

bool RadiusAccountingBackend::sleep_unless_stopped(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void RadiusAccountingBackend::run() {
  auto backoff = settings_.retry_initial;
  while (true) {
    RadiusRecord record;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, nothing left
      }
      record = queue_.front();
      busy_ = true;
    }
    auto finish = [&](bool sent) {
      std::lock_guard lock(mutex_);
      queue_.pop_front();
      if (sent) {
        ++counters_.sent;
      } else {
        ++counters_.dropped;
      }
      busy_ = false;
      if (queue_.empty()) {
        idle_.notify_all();
      }
    };

    auto result = client_->send(record.attributes);
    if (!result) {
      spdlog::error("radius accounting: record dropped ({}), call_id {}: {}",
                    result.error().message, record.call_id, record.info);
      finish(false);
      continue;
    }
    switch (result.value().outcome) {
      case RadiusSendOutcome::accepted: {
        bool recovered = false;
        {
          std::lock_guard lock(mutex_);
          recovered = !last_error_.empty();
          last_error_.clear();
        }
        if (recovered) {
          spdlog::info("radius accounting: {} answers again", client_->server());
        }
        backoff = settings_.retry_initial;
        if (delivered_) {
          delivered_(record);
        }
        finish(true);
        break;
      }
      case RadiusSendOutcome::refused:
        note_error(result.value().detail);
        spdlog::error("radius accounting: record dropped ({}), call_id {}: {}",
                      result.value().detail, record.call_id, record.info);
        finish(false);
        break;
      case RadiusSendOutcome::timed_out: {
        note_error(result.value().detail + "; the record waits and is retried");
        {
          std::lock_guard lock(mutex_);
          busy_ = false;
        }
        if (!sleep_unless_stopped(backoff)) {
          return;
        }
        backoff = std::min(backoff * 2, settings_.retry_max);
        break;
      }
    }
  }
}

}  // namespace mpx::dispatcher
