/*
 * netloom-cni, compiled: the same CNI 1.1.0 plugin as bin/netloom-cni (the POSIX sh shim), as ONE
 * program (static, no shell, no netcat): a runtime's ADD starts one process instead of three
 * (dash, head, nc; each start costs ~4 ms on a small VM). It behaves as the sh shim does, byte for
 * byte where a test can see it: it answers VERSION itself, checks the CNI environment and that
 * stdin is a JSON object ({ ... }, else code 6), and hands every other command to the warm
 * netloom agent as ONE HTTP/1.0 request over the agent's unix socket:
 *   POST /v1/cni, body = stdin verbatim and a newline, headers CNI-Command, CNI-ContainerID,
 *   CNI-Netns, CNI-IfName, CNI-Args, CNI-Path = the CNI_* environment variables.
 * The agent's answer body goes to stdout; exit 0 on HTTP 200, else 1 with a CNI error JSON.
 * Socket: netconf key "agentSocket", else $NETLOOM_AGENT_SOCKET, else /run/netloom/netplugin.sock.
 * NETLOOM_CNI_TIMEOUT (seconds, default 300) bounds each wait for the agent.
 * Everything is linear in the size of the input; input over the limits is refused before more of
 * it is read (the limits are netplugin/cni/limits.ts's; test/unit/cni/limits.test.ts keeps them
 * equal). The netconf's keys are found as the sh shim finds them: the first "KEY" anywhere,
 * followed by one colon (white space around it) and a string; no JSON escapes are decoded.
 * Build: cc -O2 -static (deploy/install.sh); contract, limits and codes: docs/cni.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/netloom/netplugin.sock"
#define SUPPORTED "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]"
#define MAX_NETCONF_BYTES 1048576
#define MAX_CNI_COMMAND 16
#define MAX_CNI_CONTAINERID 1024
#define MAX_CNI_NETNS 4096
#define MAX_CNI_IFNAME 64
#define MAX_CNI_ARGS 16384
#define MAX_CNI_PATH 16384
/* the sh shim looks for cniVersion in this much of an over-long netconf (it read that much first) */
#define CHUNK 131072
/* the agent's answer: what fits here is read; the agent's answers are far smaller */
#define MAX_ANSWER (4 * 1048576)

static char ver[17] = "1.1.0";

/* printable ASCII of s (0x20..0x7e), " and \ escaped, into out (JSON string contents) */
static void put_escaped(FILE *out, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c > 0x7e) continue;
    if (c == '"' || c == '\\') fputc('\\', out);
    fputc(c, out);
  }
}

/* print a CNI error result and exit 1 */
static void fail(int code, const char *msg, const char *details) __attribute__((noreturn));
static void fail(int code, const char *msg, const char *details) {
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"", ver, code);
  put_escaped(stdout, msg, strlen(msg));
  fputs("\",\"details\":\"", stdout);
  if (details) put_escaped(stdout, details, strlen(details));
  fputs("\"}\n", stdout);
  fflush(stdout);
  exit(1);
}

/* fail with a message built by printf */
static void failf(int code, const char *details, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void failf(int code, const char *details, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fail(code, msg, details);
}

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/*
 * The string value of the first "KEY" in conf[0..n), as the sh shim's json_string finds it: the
 * text between the key's closing quote and the next quote must hold exactly one colon and white
 * space only; the value runs from that quote to the next one (or the end). Sets the value and its length;
 * returns 0 when there is no such string value.
 */
static int json_string(const char *conf, size_t n, const char *key, const char **val, size_t *vlen) {
  size_t k = strlen(key);
  const char *p = NULL;
  for (size_t i = 0; i + k + 2 <= n; i++) {
    if (conf[i] == '"' && memcmp(conf + i + 1, key, k) == 0 && conf[i + k + 1] == '"') {
      p = conf + i + k + 2;
      break;
    }
  }
  if (!p) return 0;
  const char *end = conf + n;
  int colons = 0;
  for (; p < end && *p != '"'; p++) {
    if (*p == ':') colons++;
    else if (!is_space((unsigned char)*p)) return 0;
  }
  if (colons != 1 || p >= end) return 0;
  const char *v = ++p;
  while (p < end && *p != '"') p++;
  *val = v;
  *vlen = (size_t)(p - v);
  return 1;
}

/* take the netconf's cniVersion for our own answers when it looks like one (else 1.1.0) */
static void take_version(const char *conf, size_t n) {
  const char *v;
  size_t len;
  if (!json_string(conf, n, "cniVersion", &v, &len) || len == 0 || len > 16) return;
  int dots = 0;
  for (size_t i = 0; i < len; i++) {
    if (v[i] == '.') dots++;
    else if (v[i] < '0' || v[i] > '9') return;
  }
  if (v[0] < '0' || v[0] > '9' || dots < 2) return;
  memcpy(ver, v, len);
  ver[len] = '\0';
}

static const char *env_or_empty(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

/* within its byte limit and free of control characters (they would break the request); code 4 naming it */
static void check_env(const char *name, size_t max) {
  const char *v = env_or_empty(name);
  size_t len = strlen(v);
  if (len > max) failf(4, NULL, "invalid environment variable %s: is %zu bytes long, more than %zu", name, len, max);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)v[i];
    if (c < 0x20 || c == 0x7f) failf(4, NULL, "invalid environment variable %s: contains control characters", name);
  }
}

static void require_env(const char *name) {
  if (env_or_empty(name)[0] == '\0') failf(4, NULL, "invalid environment variable %s: is missing", name);
}

/* wait until fd is ready for `events`, at most timeout_s seconds; 0 on time out or error */
static int ready(int fd, short events, long timeout_s) {
  struct pollfd p = {.fd = fd, .events = events};
  for (;;) {
    int r = poll(&p, 1, timeout_s > 2000000 ? 2000000000 : (int)(timeout_s * 1000));
    if (r > 0) return 1;
    if (r == 0 || errno != EINTR) return 0;
  }
}

static int send_all(int fd, const char *b, size_t n, long timeout_s) {
  while (n > 0) {
    if (!ready(fd, POLLOUT, timeout_s)) return 0;
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return 0;
    b += w;
    n -= (size_t)w;
  }
  return 1;
}

int main(void) {
  static char conf[MAX_NETCONF_BYTES + 2];
  size_t raw = 0;
  /* stdin, at most one byte more than the limit: one over it is refused without reading the rest */
  while (raw < MAX_NETCONF_BYTES + 1) {
    ssize_t r = read(0, conf + raw, MAX_NETCONF_BYTES + 1 - raw);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(5, "could not read the network configuration from stdin", NULL);
    if (r == 0) break;
    raw += (size_t)r;
  }
  /* as the shell does: NUL bytes are dropped */
  size_t n = 0;
  for (size_t i = 0; i < raw; i++)
    if (conf[i] != '\0') conf[n++] = conf[i];
  conf[n] = '\0';
  if (raw > MAX_NETCONF_BYTES) {
    take_version(conf, n < CHUNK + 1 ? n : CHUNK + 1);
    failf(7, "the limit of netloom-cni's stdin", "invalid network configuration: larger than %d bytes", MAX_NETCONF_BYTES);
  }
  take_version(conf, n);

  check_env("CNI_COMMAND", MAX_CNI_COMMAND);
  const char *cmd = env_or_empty("CNI_COMMAND");
  if (strcmp(cmd, "VERSION") == 0) {
    printf("{\"cniVersion\":\"%s\",\"supportedVersions\":%s}\n", ver, SUPPORTED);
    return 0;
  } else if (strcmp(cmd, "ADD") == 0 || strcmp(cmd, "CHECK") == 0) {
    require_env("CNI_CONTAINERID");
    require_env("CNI_NETNS");
    require_env("CNI_IFNAME");
  } else if (strcmp(cmd, "DEL") == 0) {
    require_env("CNI_CONTAINERID");
    require_env("CNI_IFNAME");
  } else if (strcmp(cmd, "STATUS") != 0 && strcmp(cmd, "GC") != 0) {
    if (cmd[0] == '\0') fail(4, "invalid environment variable CNI_COMMAND: is missing", NULL);
    failf(4, "expected one of ADD, DEL, CHECK, STATUS, GC, VERSION", "invalid environment variable CNI_COMMAND: unknown command \"%s\"", cmd);
  }
  check_env("CNI_CONTAINERID", MAX_CNI_CONTAINERID);
  check_env("CNI_NETNS", MAX_CNI_NETNS);
  check_env("CNI_IFNAME", MAX_CNI_IFNAME);
  check_env("CNI_ARGS", MAX_CNI_ARGS);
  check_env("CNI_PATH", MAX_CNI_PATH);

  /* stdin that is no JSON object at all is the spec's 6 (failed to decode), before the socket is
   * looked up in it; the agent decodes the rest: this is only the outer shape { ... } */
  size_t first = 0, last = n;
  while (first < n && is_space((unsigned char)conf[first])) first++;
  while (last > first && is_space((unsigned char)conf[last - 1])) last--;
  if (first == n || conf[first] != '{') fail(6, "could not decode the network configuration as JSON", "stdin is not a JSON object");
  if (conf[last - 1] != '}') fail(6, "could not decode the network configuration as JSON", "stdin does not end with }");

  /* agent unreachable: "try again later", except for STATUS, where it means "cannot serve ADD" (50) */
  int down = strcmp(cmd, "STATUS") == 0 ? 50 : 11;

  char sock[4097];
  const char *sv;
  size_t slen;
  if (json_string(conf, n, "agentSocket", &sv, &slen) && slen > 0) {
    if (memchr(sv, '\\', slen)) fail(7, "invalid network configuration: agentSocket must be a plain path (no \\ or \")", NULL);
    if (slen >= sizeof sock) slen = sizeof sock - 1;
    memcpy(sock, sv, slen);
    sock[slen] = '\0';
  } else {
    const char *e = getenv("NETLOOM_AGENT_SOCKET");
    snprintf(sock, sizeof sock, "%s", e && e[0] ? e : DEFAULT_SOCKET);
  }
  struct stat st;
  if (stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode))
    failf(down, "is the netloom agent (netplugin) running?", "netloom agent socket %s is not there; try again later", sock);

  long timeout = 300;
  const char *t = getenv("NETLOOM_CNI_TIMEOUT");
  if (t && t[0]) {
    char *endp;
    long v = strtol(t, &endp, 10);
    if (*endp == '\0' && v > 0) timeout = v;
  }

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(sock) >= sizeof addr.sun_path)
    failf(down, "is the netloom agent (netplugin) running?", "netloom agent at %s did not answer (socket path too long); try again later", sock);
  strcpy(addr.sun_path, sock);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
    failf(down, "is the netloom agent (netplugin) running?", "netloom agent at %s did not answer (connect: %s); try again later", sock,
          strerror(errno));

  /* HTTP/1.0: the agent answers and closes; the body ends with a newline, which Content-Length counts */
  const char *hdr_fmt =
      "POST /v1/cni HTTP/1.0\r\nHost: netloom-agent\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
      "CNI-Command: %s\r\nCNI-ContainerID: %s\r\nCNI-Netns: %s\r\nCNI-IfName: %s\r\nCNI-Args: %s\r\nCNI-Path: %s\r\n\r\n";
  char *head = NULL;
  int hlen = asprintf(&head, hdr_fmt, n + 1, cmd, env_or_empty("CNI_CONTAINERID"), env_or_empty("CNI_NETNS"),
                      env_or_empty("CNI_IFNAME"), env_or_empty("CNI_ARGS"), env_or_empty("CNI_PATH"));
  conf[n] = '\n';
  /* a refused request is seen in the answer (or its absence) below */
  if (hlen > 0) (void)(send_all(fd, head, (size_t)hlen, timeout) && send_all(fd, conf, n + 1, timeout));
  conf[n] = '\0';

  static char out[MAX_ANSWER + 1];
  size_t got = 0;
  while (got < MAX_ANSWER && ready(fd, POLLIN, timeout)) {
    ssize_t r = recv(fd, out + got, MAX_ANSWER - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  out[got] = '\0';
  /* as $(...) does: NUL bytes dropped, trailing newlines stripped */
  size_t m = 0;
  for (size_t i = 0; i < got; i++)
    if (out[i] != '\0') out[m++] = out[i];
  while (m > 0 && out[m - 1] == '\n') m--;
  out[m] = '\0';

  if (!(m >= 12 && strncmp(out, "HTTP/1.", 7) == 0 && (out[7] == '0' || out[7] == '1') && out[8] == ' ' && out[9] >= '0' &&
        out[9] <= '9' && out[10] >= '0' && out[10] <= '9' && out[11] >= '0' && out[11] <= '9'))
    failf(down, "is the netloom agent (netplugin) running?", "netloom agent at %s did not answer; try again later", sock);
  int status = 0;
  for (size_t i = 9; i < m && out[i] >= '0' && out[i] <= '9' && status < 100000; i++) status = status * 10 + (out[i] - '0');
  /* the body follows the first empty line (LF, one character (CR), LF) */
  const char *body = "";
  for (size_t i = 0; i + 2 < m; i++) {
    if (out[i] == '\n' && out[i + 2] == '\n') {
      body = out + i + 3;
      break;
    }
  }
  if (status == 200) {
    if (body[0]) printf("%s\n", body);
    return 0;
  }
  if (body[0] == '{') {
    printf("%s\n", body);
    return 1;
  }
  /* the agent's HTTP server itself refused the headers (an agent with other limits than this plugin) */
  if (status == 431)
    fail(4,
         "invalid environment variables: CNI_ARGS, CNI_PATH or another CNI variable is too long for the netloom agent (HTTP 431)",
         NULL);
  failf(999, body, "netloom agent at %s answered HTTP %d", sock, status);
  return 1;
}
