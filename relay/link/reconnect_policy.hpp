// When a dispatcher link tries again (spec 5.12): a failed connect waits reconnect_delay; a lost
// connection is retried after 1 s, unless it lived less than 5 s or ended on a certificate error,
// which also wait reconnect_delay (so a dispatcher that accepts and drops at once is not hammered).
#pragma once

#include <chrono>

namespace mpx::relay::link {

enum class LinkEnd {
  connect_failed,     // TCP connect, TLS handshake or the connect timeout failed
  certificate_error,  // the peer check after the handshake or a periodic re-verification failed
  lost,               // an established connection ended (closed, read/write error, keepalive)
};

struct ReconnectTimes {
  std::chrono::steady_clock::duration reconnect_delay = std::chrono::seconds(10);
  std::chrono::steady_clock::duration quick_retry = std::chrono::seconds(1);
  std::chrono::steady_clock::duration short_lived = std::chrono::seconds(5);
};

// `lived`: how long the connection was established (ignored unless `end` is lost).
std::chrono::steady_clock::duration retry_delay(LinkEnd end,
                                                std::chrono::steady_clock::duration lived,
                                                const ReconnectTimes& times);

}  // namespace mpx::relay::link
