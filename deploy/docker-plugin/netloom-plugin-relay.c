/*
 * netloom-plugin-relay: the one process of netloom's managed (v2) Docker plugin.
 *
 * dockerd talks to a managed plugin on a unix socket inside the plugin's rootfs
 * (/run/docker/plugins/<socket>, a directory dockerd bind-mounts from its exec root). netloom's
 * plugin logic lives in the host's agent (netplugin), which serves the CNM protocol on its own
 * socket; the plugin mounts that socket's directory from the host. This relay accepts each
 * connection dockerd makes and copies bytes both ways to a fresh connection to the agent, so
 * the agent stays the one place with state (and a plugin restart loses nothing).
 *
 * Usage: netloom-plugin-relay LISTEN_PATH AGENT_SOCKET_PATH
 * One child per connection; a connection the agent refuses is closed (dockerd retries).
 * Static, no libraries: the rootfs holds only this file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int unix_addr(const char *path, struct sockaddr_un *a) {
  memset(a, 0, sizeof(*a));
  a->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof(a->sun_path)) {
    fprintf(stderr, "netloom-plugin-relay: socket path too long: %s\n", path);
    return -1;
  }
  strcpy(a->sun_path, path);
  return 0;
}

/* Write all of buf; 0 on success. */
static int write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += w;
    n -= w;
  }
  return 0;
}

/* Copy both ways until both directions are closed (half-close forwarded with shutdown). */
static void pump(int a, int b) {
  struct pollfd p[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
  int open_dirs = 2;
  char buf[65536];
  while (open_dirs > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int to = i == 0 ? b : a;
      ssize_t n = read(p[i].fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        shutdown(to, SHUT_WR);
        p[i].fd = -1;
        open_dirs--;
        continue;
      }
      if (write_all(to, buf, n) != 0) return;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: netloom-plugin-relay LISTEN_PATH AGENT_SOCKET_PATH\n");
    return 2;
  }
  struct sockaddr_un listen_addr, agent_addr;
  if (unix_addr(argv[1], &listen_addr) != 0 || unix_addr(argv[2], &agent_addr) != 0) return 2;
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) {
    perror("netloom-plugin-relay: socket");
    return 1;
  }
  unlink(argv[1]); /* a socket file left by an earlier run of the plugin */
  if (bind(ls, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) != 0 || listen(ls, 64) != 0) {
    perror("netloom-plugin-relay: listen");
    return 1;
  }
  fprintf(stderr, "netloom-plugin-relay: %s -> %s\n", argv[1], argv[2]);
  for (;;) {
    int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("netloom-plugin-relay: accept");
      return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(ls);
      int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (up < 0 || connect(up, (struct sockaddr *)&agent_addr, sizeof(agent_addr)) != 0) {
        fprintf(stderr, "netloom-plugin-relay: agent socket %s: %s\n", argv[2], strerror(errno));
        _exit(1);
      }
      pump(c, up);
      _exit(0);
    }
    if (pid < 0) perror("netloom-plugin-relay: fork");
    close(c);
  }
}
