// ModuleServer (see module_server.hpp).
#include "dispatcher/module_server.hpp"

#include <sys/stat.h>
#include <sys/un.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>

#include "common/protocol/module_reply.hpp"
#include "common/asio/spawn.hpp"

namespace mpx::dispatcher {

using asio_util::spawn;

namespace asio = boost::asio;
using stream_protocol = asio::local::stream_protocol;

namespace {
constexpr std::chrono::milliseconds kWriteMargin{5};
}  // namespace

ModuleServer::ModuleServer(asio::any_io_executor executor, std::filesystem::path path,
                           SocketPermissions permissions, std::chrono::milliseconds answer_budget,
                           DispatcherCore& core, protocol::ModuleRequestLimits limits)
    : executor_(std::move(executor)),
      path_(std::move(path)),
      permissions_(std::move(permissions)),
      answer_budget_(answer_budget),
      core_(core),
      limits_(limits),
      acceptor_(executor_) {}

ModuleServer::~ModuleServer() {
  *alive_ = false;
  stop();
}

Result<void> ModuleServer::open() {
  const auto where = path_.string();
  if (where.size() >= sizeof(sockaddr_un::sun_path)) {
    return Error{fmt::format("module socket {}: path too long for a UNIX socket ({} bytes, at most "
                             "{})",
                             where, where.size(), sizeof(sockaddr_un::sun_path) - 1)};
  }
  std::error_code fs_error;
  if (path_.has_parent_path()) {
    std::filesystem::create_directories(path_.parent_path(), fs_error);
    if (fs_error) {
      return Error{fmt::format("module socket {}: cannot create directory {}: {}", where,
                               path_.parent_path().string(), fs_error.message())};
    }
  }
  const auto status = std::filesystem::symlink_status(path_, fs_error);
  if (std::filesystem::exists(status)) {
    if (!std::filesystem::is_socket(status)) {
      return Error{fmt::format("module socket {}: the path exists and is not a socket; refusing to "
                               "replace it",
                               where)};
    }
    stream_protocol::socket probe(executor_);
    boost::system::error_code connect_error;
    probe.connect(stream_protocol::endpoint(where), connect_error);
    if (!connect_error) {
      return Error{fmt::format("module socket {}: another process is serving it (is another "
                               "dispatcher running?)",
                               where)};
    }
    std::filesystem::remove(path_, fs_error);
    if (fs_error) {
      return Error{fmt::format("module socket {}: cannot remove the stale socket: {}", where,
                               fs_error.message())};
    }
  }
  boost::system::error_code error;
  acceptor_.open(stream_protocol(), error);
  if (!error) {
    // No window in which the socket is reachable with looser permissions than configured.
    const mode_t previous_umask = ::umask(0177);
    acceptor_.bind(stream_protocol::endpoint(where), error);
    ::umask(previous_umask);
  }
  if (error) {
    acceptor_.close();
    return Error{fmt::format("module socket {}: cannot bind: {}", where, error.message())};
  }
  bound_ = true;
  if (auto applied = apply_socket_permissions(path_, permissions_); !applied) {
    stop();
    return Error{"module socket " + applied.error().message};
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    stop();
    return Error{fmt::format("module socket {}: cannot listen: {}", where, error.message())};
  }
  return outcome::success();
}

void ModuleServer::start() { spawn(executor_, accept_loop(), "module socket acceptor"); }

void ModuleServer::stop() {
  if (stopped_) {
    return;
  }
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, socket] : connections_) {
    socket->close(ignored);
  }
  connections_.clear();
  if (bound_) {
    std::error_code fs_error;
    std::filesystem::remove(path_, fs_error);
    bound_ = false;
  }
}

asio::awaitable<void> ModuleServer::accept_loop() {
  auto alive = alive_;
  while (*alive && !stopped_) {
    auto socket = std::make_shared<Socket>(executor_);
    boost::system::error_code error;
    co_await acceptor_.async_accept(*socket, asio::redirect_error(asio::use_awaitable, error));
    if (!*alive || stopped_) {
      co_return;
    }
    if (error) {
      if (error == asio::error::operation_aborted) {
        co_return;
      }
      spdlog::error("module socket: accept failed: {}", error.message());
      continue;
    }
    const auto id = next_id_++;
    connections_.emplace(id, socket);
    spdlog::debug("module connection {} opened ({} open)", id, connections_.size());
    spawn(executor_, serve(socket, id), "module connection");
  }
}

asio::awaitable<void> ModuleServer::serve(std::shared_ptr<Socket> socket, std::uint64_t id) {
  auto alive = alive_;
  protocol::ModuleRequestParser parser(limits_);
  std::array<char, 8192> buffer{};
  std::string close_reason = "closed by the proxy";
  bool open = true;
  while (open) {
    auto step = parser.next();
    if (std::holds_alternative<protocol::NeedMore>(step)) {
      boost::system::error_code error;
      const auto n = co_await socket->async_read_some(
          asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
      if (!*alive) {
        co_return;
      }
      if (error) {
        if (error != asio::error::eof) {
          close_reason = "read failed: " + error.message();
        }
        break;
      }
      parser.feed(std::string_view(buffer.data(), n));
      continue;
    }
    std::string reply;
    if (auto* request = std::get_if<protocol::ModuleRequest>(&step)) {
      const auto arrived = Clock::now();
      const auto deadline = arrived + answer_budget_;
      // The core must be done a little before the deadline so that writing the answer still
      // fits inside the budget.
      reply = co_await core_.handle(*request, deadline - kWriteMargin);
      if (!*alive) {
        co_return;
      }
      if (request->command == "update") {
        ++stats_.updates;
      } else if (request->command == "remove") {
        ++stats_.removes;
      } else {
        ++stats_.other_commands;
      }
      if (reply == protocol::kErrorReply) {
        ++stats_.error_answers;
      }
      stats_.answer_seconds.observe(
          std::chrono::duration<double>(Clock::now() - arrived).count());
      const auto late = Clock::now() - deadline;
      if (late > Clock::duration::zero()) {
        ++stats_.late_answers;
        spdlog::warn("module connection {}: answer sent {} ms past the {} ms budget", id,
                     std::chrono::duration_cast<std::chrono::milliseconds>(late).count(),
                     answer_budget_.count());
      }
    } else if (auto* bad = std::get_if<protocol::MessageError>(&step)) {
      spdlog::warn("module connection {}: malformed request, answering error: {}", id,
                   bad->message);
      reply = std::string(protocol::kErrorReply);
      ++stats_.malformed;
    } else if (auto* fatal = std::get_if<protocol::FatalError>(&step)) {
      close_reason = "closing: " + fatal->message;
      ++stats_.closed_oversized;
      spdlog::error("module connection {}: {}", id, close_reason);
      break;
    }
    boost::system::error_code error;
    co_await asio::async_write(*socket, asio::buffer(reply),
                               asio::redirect_error(asio::use_awaitable, error));
    if (!*alive) {
      co_return;
    }
    if (error) {
      close_reason = "write failed: " + error.message();
      open = false;
    }
  }
  spdlog::debug("module connection {} closed: {}", id, close_reason);
  boost::system::error_code ignored;
  socket->close(ignored);
  connections_.erase(id);
}

}  // namespace mpx::dispatcher
