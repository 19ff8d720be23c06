/*
 * netloom-veth: stage 1 of a CNI ADD (netplugin/plumbing/veth.ts) in ONE small static program,
 * over rtnetlink and the ethtool ioctl, instead of `ip -n NS -b -` (which also remounts /sys in
 * a mount namespace of its own) and `nsenter --net=NS ethtool -K IF tx off` (two more programs):
 * each program start costs ~4 ms on a small VM, and these are on every ADD's critical path.
 * Inside the container's network namespace (setns) it does what vethScript's batch does:
 *   link add HOST up netns HOSTNS mtu M type veth peer name IF address MAC mtu M   (IF up, too)
 *   link set lo up
 *   addr add IP/LEN dev IF; route add default via GW dev IF       (--address, --gateway)
 *   ethtool -K IF tx off                                            (--tx-off)
 * Usage: netloom-veth --netns PATH --host-netns PATH --host-if NAME --if NAME --mac MAC --mtu N
 *                     [--address IP/LEN [--gateway IP]] [--tx-off]
 * Exit status says how far it got, stderr says why (as `ip` words it: "RTNETLINK answers: ..."):
 *   0 done; 1 the pair was not made (nothing of it exists); 2 the pair exists, its addressing
 *   failed; 3 the pair and its addressing exist, tx checksum offload could not be turned off;
 *   64 bad arguments (the agent validates them first: veth.ts).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { PAIR_NOT_MADE = 1, ADDRESSING_FAILED = 2, TX_OFF_FAILED = 3, USAGE = 64 };

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("netloom-veth: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(status);
}

/* one rtnetlink request with its attributes, built in place */
struct req {
  struct nlmsghdr h;
  char buf[1024];
};

static struct rtattr *attr(struct req *r, unsigned short type, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(r->h.nlmsg_len);
  size_t need = RTA_ALIGN(RTA_LENGTH(len));
  if (at + need > sizeof *r) die(USAGE, "request too long");
  struct rtattr *a = (struct rtattr *)((char *)&r->h + at);
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  r->h.nlmsg_len = (unsigned)(at + need);
  return a;
}

static struct rtattr *nest(struct req *r, unsigned short type) { return attr(r, type, NULL, 0); }

static void nest_end(struct req *r, struct rtattr *a) { a->rta_len = (unsigned short)((char *)&r->h + r->h.nlmsg_len - (char *)a); }

/* append raw bytes (the peer's ifinfomsg inside VETH_INFO_PEER) */
static void raw(struct req *r, const void *data, size_t len) {
  size_t at = NLMSG_ALIGN(r->h.nlmsg_len);
  if (at + NLMSG_ALIGN(len) > sizeof *r) die(USAGE, "request too long");
  memcpy((char *)&r->h + at, data, len);
  r->h.nlmsg_len = (unsigned)(at + NLMSG_ALIGN(len));
}

static void start(struct req *r, unsigned short type, unsigned short flags, const void *hdr, size_t hlen) {
  memset(r, 0, sizeof *r);
  r->h.nlmsg_len = (unsigned)NLMSG_LENGTH(0);
  r->h.nlmsg_type = type;
  r->h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
  raw(r, hdr, hlen);
}

/* send the request and wait for its acknowledgement: 0, or the kernel's errno */
static int talk(int fd, struct req *r) {
  static unsigned seq;
  r->h.nlmsg_seq = ++seq;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
      const struct nlmsgerr *e = NLMSG_DATA(h);
      return -e->error;
    }
  }
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  unsigned v[6];
  char end;
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6) return 0;
  for (int i = 0; i < 6; i++) mac[i] = (unsigned char)v[i];
  return 1;
}

static int valid_ifname(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= IFNAMSIZ) return 0;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
          s[i] == '-'))
      return 0;
  return 1;
}

int main(int argc, char **argv) {
  const char *netns = NULL, *hostns = NULL, *hostif = NULL, *ifname = NULL, *mac_s = NULL, *mtu_s = NULL, *address = NULL,
             *gateway = NULL;
  int tx_off = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = strcmp(a, "--netns") == 0        ? &netns
                        : strcmp(a, "--host-netns") == 0 ? &hostns
                        : strcmp(a, "--host-if") == 0    ? &hostif
                        : strcmp(a, "--if") == 0         ? &ifname
                        : strcmp(a, "--mac") == 0        ? &mac_s
                        : strcmp(a, "--mtu") == 0        ? &mtu_s
                        : strcmp(a, "--address") == 0    ? &address
                        : strcmp(a, "--gateway") == 0    ? &gateway
                                                         : NULL;
    if (strcmp(a, "--tx-off") == 0) {
      tx_off = 1;
      continue;
    }
    if (!slot || i + 1 >= argc) die(USAGE, "bad argument %s", a);
    *slot = argv[++i];
  }
  if (!netns || !hostns || !hostif || !ifname || !mac_s || !mtu_s) die(USAGE, "missing arguments");
  if (!valid_ifname(hostif) || !valid_ifname(ifname)) die(USAGE, "bad interface name");
  unsigned char mac[6];
  if (!parse_mac(mac_s, mac)) die(USAGE, "bad MAC %s", mac_s);
  char *end;
  long mtu_l = strtol(mtu_s, &end, 10);
  if (*end || mtu_l < 68 || mtu_l > 65535) die(USAGE, "bad MTU %s", mtu_s);
  unsigned mtu = (unsigned)mtu_l;
  struct in_addr ip = {0}, gw = {0};
  unsigned char plen = 0;
  if (address) {
    char buf[32];
    const char *slash = strchr(address, '/');
    if (!slash || (size_t)(slash - address) >= sizeof buf) die(USAGE, "bad address %s", address);
    memcpy(buf, address, (size_t)(slash - address));
    buf[slash - address] = '\0';
    long l = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, buf, &ip) != 1 || *end || slash[1] == '\0' || l < 0 || l > 32) die(USAGE, "bad address %s", address);
    plen = (unsigned char)l;
  }
  if (gateway && (!address || inet_pton(AF_INET, gateway, &gw) != 1)) die(USAGE, "bad gateway %s", gateway);

  /* the host end's namespace first (a path of this namespace's /proc may mean another after setns) */
  int hostfd = open(hostns, O_RDONLY | O_CLOEXEC);
  if (hostfd < 0) die(PAIR_NOT_MADE, "opening %s: %s", hostns, strerror(errno));
  int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) die(PAIR_NOT_MADE, "opening %s: %s", netns, strerror(errno));
  if (setns(nsfd, CLONE_NEWNET) != 0) die(PAIR_NOT_MADE, "entering %s: %s", netns, strerror(errno));
  close(nsfd);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die(PAIR_NOT_MADE, "netlink socket: %s", strerror(errno));

  struct req r;
  /* the pair: HOST in the host's namespace, up; IF here with its MAC, up */
  struct ifinfomsg up = {.ifi_family = AF_UNSPEC, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &up, sizeof up);
  attr(&r, IFLA_IFNAME, hostif, strlen(hostif) + 1);
  attr(&r, IFLA_MTU, &mtu, sizeof mtu);
  attr(&r, IFLA_NET_NS_FD, &hostfd, sizeof hostfd);
  struct rtattr *info = nest(&r, IFLA_LINKINFO);
  attr(&r, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nest(&r, IFLA_INFO_DATA);
  struct rtattr *peer = nest(&r, VETH_INFO_PEER);
  /* not up yet: the kernel opens the peer before it is paired (ENOTCONN) */
  struct ifinfomsg plain = {.ifi_family = AF_UNSPEC};
  raw(&r, &plain, sizeof plain);
  attr(&r, IFLA_IFNAME, ifname, strlen(ifname) + 1);
  attr(&r, IFLA_ADDRESS, mac, sizeof mac);
  attr(&r, IFLA_MTU, &mtu, sizeof mtu);
  nest_end(&r, peer);
  nest_end(&r, data);
  nest_end(&r, info);
  int err = talk(fd, &r);
  if (err) die(PAIR_NOT_MADE, "link add %s / %s: RTNETLINK answers: %s", hostif, ifname, strerror(err));

  /* its index, and a socket of this namespace for the ethtool ioctl */
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (s < 0 || ioctl(s, SIOCGIFINDEX, &ifr) != 0) die(ADDRESSING_FAILED, "%s: %s", ifname, strerror(errno));
  int index = ifr.ifr_ifindex;

  /* IF up, then lo (index 1 in every namespace) */
  struct ifinfomsg ifup = {.ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  start(&r, RTM_NEWLINK, 0, &ifup, sizeof ifup);
  if ((err = talk(fd, &r))) die(ADDRESSING_FAILED, "link set %s up: RTNETLINK answers: %s", ifname, strerror(err));
  struct ifinfomsg lo = {.ifi_family = AF_UNSPEC, .ifi_index = 1, .ifi_flags = IFF_UP, .ifi_change = IFF_UP};
  start(&r, RTM_NEWLINK, 0, &lo, sizeof lo);
  if ((err = talk(fd, &r))) die(ADDRESSING_FAILED, "link set lo up: RTNETLINK answers: %s", strerror(err));
  if (address) {
    struct ifaddrmsg am = {.ifa_family = AF_INET, .ifa_prefixlen = plen, .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (unsigned)index};
    start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &am, sizeof am);
    attr(&r, IFA_LOCAL, &ip, sizeof ip);
    attr(&r, IFA_ADDRESS, &ip, sizeof ip);
    if ((err = talk(fd, &r))) die(ADDRESSING_FAILED, "addr add %s dev %s: RTNETLINK answers: %s", address, ifname, strerror(err));
  }
  if (gateway) {
    struct rtmsg rm = {.rtm_family = AF_INET,
                       .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTPROT_BOOT,
                       .rtm_scope = RT_SCOPE_UNIVERSE,
                       .rtm_type = RTN_UNICAST};
    start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rm, sizeof rm);
    attr(&r, RTA_GATEWAY, &gw, sizeof gw);
    attr(&r, RTA_OIF, &index, sizeof index);
    if ((err = talk(fd, &r))) die(ADDRESSING_FAILED, "route add default via %s dev %s: RTNETLINK answers: %s", gateway, ifname, strerror(err));
  }
  close(fd);

  if (tx_off) {
    /* ETHTOOL_STXCSUM off: the checksum features, as `ethtool -K IF tx off` (the kernel drops TSO with them) */
    struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
    ifr.ifr_data = (char *)&ev;
    if (ioctl(s, SIOCETHTOOL, &ifr) != 0) die(TX_OFF_FAILED, "turning tx checksum offload off on %s: %s", ifname, strerror(errno));
  }
  close(s);
  return 0;
}
