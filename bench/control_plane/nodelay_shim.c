/* bench/control_plane/nodelay_shim.c: a diagnosis aid, not part of mpx. An LD_PRELOAD library
 * that sets TCP_NODELAY on every TCP socket a process connects or accepts, to test whether
 * Nagle's algorithm (with the peer's 40 ms delayed ACK) is behind the ~40 ms answer-time tail of
 * the dispatcher <-> relay link when several requests are in flight on one connection.
 *
 *   gcc -O2 -shared -fPIC -o /tmp/nodelay_shim.so bench/control_plane/nodelay_shim.c -ldl
 *   MPX_BENCH_CP_PRELOAD=/tmp/nodelay_shim.so bench/suites/control_plane.sh
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
  int type = 0;
  socklen_t length = sizeof(type);
  if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0 &&
      type == SOCK_STREAM) {
    int one = 1;
    /* Fails harmlessly (EOPNOTSUPP) on a Unix stream socket. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
}

int connect(int fd, const struct sockaddr* address, socklen_t length) {
  static int (*real)(int, const struct sockaddr*, socklen_t);
  if (!real) real = (int (*)(int, const struct sockaddr*, socklen_t))dlsym(RTLD_NEXT, "connect");
  if (address && address->sa_family == AF_INET) nodelay(fd);
  return real(fd, address, length);
}

int accept(int fd, struct sockaddr* address, socklen_t* length) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  int client = real(fd, address, length);
  nodelay(client);
  return client;
}

int accept4(int fd, struct sockaddr* address, socklen_t* length, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (!real) real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT, "accept4");
  int client = real(fd, address, length, flags);
  nodelay(client);
  return client;
}
