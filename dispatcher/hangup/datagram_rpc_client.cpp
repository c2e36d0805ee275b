// DatagramRpcClient (see datagram_rpc_client.hpp). Request ids are random 32-bit values in
// lowercase hex, as MediaProxy's, re-drawn while one is still pending.
#include "dispatcher/hangup/datagram_rpc_client.hpp"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <sys/un.h>
#include <system_error>
#include <utility>

#include "common/protocol/python_json.hpp"

namespace mpx::dispatcher {
namespace {

namespace asio = boost::asio;
using Datagram = asio::local::datagram_protocol;

// What a log line may show of a datagram from the peer: bounded and printable.
std::string excerpt(std::string_view data) {
  constexpr std::size_t limit = 200;
  std::string out;
  for (const char c : data.substr(0, limit)) {
    const auto byte = static_cast<unsigned char>(c);
    out += (byte < 0x20 || byte >= 0x7f) ? fmt::format("\\x{:02x}", byte) : std::string(1, c);
  }
  if (data.size() > limit) {
    out += "...";
  }
  return out;
}

std::optional<std::string> id_text(const nlohmann::json& id) {
  if (id.is_string()) {
    return id.get<std::string>();
  }
  if (id.is_number_unsigned()) {
    return std::to_string(id.get<std::uint64_t>());
  }
  if (id.is_number_integer()) {
    return std::to_string(id.get<std::int64_t>());
  }
  return std::nullopt;
}

RpcOutcome error_outcome(const nlohmann::json& error) {
  RpcOutcome outcome;
  outcome.kind = RpcOutcome::Kind::error;
  if (error.is_object()) {
    if (const auto code = error.find("code"); code != error.end() && code->is_number_integer()) {
      outcome.code = code->get<std::int64_t>();
    }
    if (const auto message = error.find("message");
        message != error.end() && message->is_string()) {
      outcome.message = message->get<std::string>();
    }
  } else if (error.is_string()) {
    outcome.message = error.get<std::string>();
  }
  if (outcome.message.empty()) {
    outcome.message = "(no message)";
  }
  return outcome;
}

}  // namespace

std::string describe(const RpcOutcome& outcome) {
  switch (outcome.kind) {
    case RpcOutcome::Kind::result:
      return "result " + outcome.result.dump(-1, ' ', false,
                                             nlohmann::json::error_handler_t::replace);
    case RpcOutcome::Kind::error:
      return outcome.code ? fmt::format("error {} {}", *outcome.code, outcome.message)
                          : "error " + outcome.message;
    case RpcOutcome::Kind::timeout:
    case RpcOutcome::Kind::failure:
      return outcome.message;
  }
  return outcome.message;
}

std::optional<std::pair<std::int64_t, std::string>> parse_plain_error(std::string_view datagram) {
  while (!datagram.empty() && (datagram.back() == '\n' || datagram.back() == '\r')) {
    datagram.remove_suffix(1);
  }
  const auto space = datagram.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 9) {
    return std::nullopt;
  }
  std::int64_t code = 0;
  const auto digits = datagram.substr(0, space);
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  std::from_chars(digits.data(), digits.data() + digits.size(), code);
  return std::pair{code, std::string(datagram.substr(space + 1))};
}

DatagramRpcClient::DatagramRpcClient(asio::any_io_executor executor, Settings settings)
    : settings_(std::move(settings)),
      strand_(asio::make_strand(std::move(executor))),
      socket_(strand_),
      random_(std::random_device{}()) {}

DatagramRpcClient::~DatagramRpcClient() {
  if (!unlinked_.exchange(true)) {
    std::error_code ignored;
    std::filesystem::remove(settings_.reply_socket, ignored);
  }
}

Result<std::shared_ptr<DatagramRpcClient>> DatagramRpcClient::open(asio::any_io_executor executor,
                                                                   Settings settings) {
  const std::string reply_path = settings.reply_socket.string();
  if (reply_path.empty() || reply_path.size() >= sizeof(sockaddr_un::sun_path) ||
      settings.server_socket.string().size() >= sizeof(sockaddr_un::sun_path)) {
    return Error{fmt::format("{} MI: socket path too long or empty (reply '{}', server '{}')",
                             settings.peer_name, reply_path, settings.server_socket.string())};
  }
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(settings.reply_socket, ec);
  if (!ec && std::filesystem::exists(status)) {
    if (!std::filesystem::is_socket(status)) {
      return Error{fmt::format("{} MI: reply socket path {} exists and is not a socket",
                               settings.peer_name, reply_path)};
    }
    std::filesystem::remove(settings.reply_socket, ec);  // a stale socket of an earlier run
  }
  std::shared_ptr<DatagramRpcClient> client(new DatagramRpcClient(executor, std::move(settings)));
  boost::system::error_code error;
  client->socket_.open(Datagram(), error);
  if (!error) {
    client->socket_.bind(Datagram::endpoint(reply_path), error);
  }
  if (error) {
    client->unlinked_ = true;  // not ours: bind failed
    return Error{fmt::format("{} MI: cannot bind reply socket {}: {}",
                             client->settings_.peer_name, reply_path, error.message())};
  }
  asio::post(client->strand_, [client] { client->start_receive(); });
  return client;
}

void DatagramRpcClient::call(std::string method, nlohmann::ordered_json params,
                             Callback callback) {
  asio::post(strand_, [self = shared_from_this(), method = std::move(method),
                       params = std::move(params), callback = std::move(callback)]() mutable {
    self->send(std::move(method), std::move(params), std::move(callback));
  });
}

void DatagramRpcClient::close() {
  if (!unlinked_.exchange(true)) {
    std::error_code ignored;
    std::filesystem::remove(settings_.reply_socket, ignored);
  }
  asio::post(strand_, [self = shared_from_this()] { self->close_on_strand(); });
}

void DatagramRpcClient::close_on_strand() {
  if (closed_) {
    return;
  }
  closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [id, call] : pending) {
    call.timer->cancel();
    RpcOutcome outcome;
    outcome.message = "client closed before an answer";
    call.callback(outcome);
  }
}

std::string DatagramRpcClient::new_id() {
  std::uniform_int_distribution<std::uint32_t> distribution;
  std::string id;
  do {
    id = fmt::format("{:x}", distribution(random_));
  } while (pending_.contains(id));
  return id;
}

void DatagramRpcClient::send(std::string method, nlohmann::ordered_json params,
                             Callback callback) {
  if (closed_) {
    RpcOutcome outcome;
    outcome.message = "client closed";
    callback(outcome);
    return;
  }
  const std::string id = new_id();
  nlohmann::ordered_json request;
  request["jsonrpc"] = "2.0";
  request["id"] = id;
  request["method"] = std::move(method);
  request["params"] = std::move(params);
  auto datagram = std::make_shared<std::string>(protocol::python_json_dump(request));

  auto timer = std::make_unique<asio::steady_timer>(strand_, settings_.reply_timeout);
  timer->async_wait([self = shared_from_this(), id](const boost::system::error_code& ec) {
    if (ec) {
      return;  // cancelled: answered or closed
    }
    RpcOutcome outcome;
    outcome.kind = RpcOutcome::Kind::timeout;
    outcome.message = fmt::format("no answer from {} within {} ms", self->settings_.peer_name,
                                  self->settings_.reply_timeout.count());
    self->complete(id, outcome);
  });
  pending_.emplace(id, Pending{std::move(timer), std::move(callback)});

  socket_.async_send_to(
      asio::buffer(*datagram), Datagram::endpoint(settings_.server_socket.string()),
      asio::bind_executor(strand_, [self = shared_from_this(), id, datagram](
                                       const boost::system::error_code& ec, std::size_t) {
        if (ec) {
          RpcOutcome outcome;
          outcome.message = fmt::format("cannot send to {} socket {}: {}",
                                        self->settings_.peer_name,
                                        self->settings_.server_socket.string(), ec.message());
          self->complete(id, outcome);
        }
      }));
}

void DatagramRpcClient::complete(const std::string& id, const RpcOutcome& outcome) {
  const auto it = pending_.find(id);
  if (it == pending_.end()) {
    return;  // already completed (e.g. answered just as the timer fired)
  }
  Pending call = std::move(it->second);
  pending_.erase(it);
  call.timer->cancel();
  call.callback(outcome);
}

void DatagramRpcClient::start_receive() {
  if (closed_) {
    return;
  }
  socket_.async_receive(
      asio::buffer(receive_buffer_),
      asio::bind_executor(strand_, [self = shared_from_this()](const boost::system::error_code& ec,
                                                               std::size_t size) {
        if (self->closed_ || ec == asio::error::operation_aborted) {
          return;
        }
        if (ec) {
          spdlog::warn("{} MI reply socket: receive failed: {}", self->settings_.peer_name,
                       ec.message());
        } else {
          self->on_datagram(std::string_view(self->receive_buffer_.data(), size));
        }
        self->start_receive();
      }));
}

void DatagramRpcClient::on_datagram(std::string_view datagram) {
  const auto json = nlohmann::json::parse(datagram, nullptr, false);
  if (json.is_discarded()) {
    if (const auto plain = parse_plain_error(datagram)) {
      if (pending_.size() == 1) {
        RpcOutcome outcome;
        outcome.kind = RpcOutcome::Kind::error;
        outcome.code = plain->first;
        outcome.message = plain->second;
        const std::string id = pending_.begin()->first;
        complete(id, outcome);
        return;
      }
      spdlog::warn("{} MI: ignoring error datagram '{}': {} requests pending, cannot match it",
                   settings_.peer_name, excerpt(datagram), pending_.size());
      return;
    }
    spdlog::warn("{} MI: ignoring reply that is not JSON: '{}'", settings_.peer_name,
                 excerpt(datagram));
    return;
  }
  const auto id_it = json.is_object() ? json.find("id") : json.end();
  const auto id = id_it != json.end() ? id_text(*id_it) : std::nullopt;
  if (!id) {
    spdlog::warn("{} MI: ignoring reply without an id: '{}'", settings_.peer_name,
                 excerpt(datagram));
    return;
  }
  if (!pending_.contains(*id)) {
    spdlog::warn("{} MI: ignoring reply to unknown or expired request id {}", settings_.peer_name,
                 *id);
    return;
  }
  if (const auto error = json.find("error"); error != json.end() && !error->is_null()) {
    complete(*id, error_outcome(*error));
    return;
  }
  if (const auto result = json.find("result"); result != json.end()) {
    RpcOutcome outcome;
    outcome.kind = RpcOutcome::Kind::result;
    outcome.result = *result;
    complete(*id, outcome);
    return;
  }
  RpcOutcome outcome;
  outcome.kind = RpcOutcome::Kind::error;
  outcome.message = "reply has neither result nor error: '" + excerpt(datagram) + "'";
  complete(*id, outcome);
}

}  // namespace mpx::dispatcher
