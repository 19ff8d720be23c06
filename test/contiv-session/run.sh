#!/usr/bin/env bash
# A migrating user's session with Contiv's own, unchanged `netctl` (built from Contiv's sources, not
# part of this repo) against a private netmaster of this tree: tenants, networks, groups, policies,
# rules, netprofiles, app profiles, global, aci-gw, bgp, services, endpoints, the inspect of each,
# and the errors Contiv's client must show. Each step asserts the exit code and a pattern of the
# output; the table printed at the end is the session's record.
#
#   CONTIV_NETCTL=/path/to/contiv/netctl test/contiv-session/run.sh
#
# Skipped (exit 0) when CONTIV_NETCTL is not an executable. Needs root-free etcd and node only; it
# starts etcd on 127.0.0.1:24190/24191 and netmaster on 127.0.0.1:24199 (--insecure: Contiv's netctl
# sends no credentials over http) and stops both by PID. Build the tree first (npx tsc).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETCTL=${CONTIV_NETCTL:-}
if [ -z "$NETCTL" ] || [ ! -x "$NETCTL" ]; then
  echo "contiv-session: skipped (set CONTIV_NETCTL to Contiv's netctl binary)"; exit 0
fi
DIR=$(mktemp -d /tmp/nl-contiv-session.XXXXXX)
URL=http://127.0.0.1:24199
ETCD_PID=; NM_PID=
cleanup() {
  [ -n "$NM_PID" ] && kill "$NM_PID" 2>/dev/null && wait "$NM_PID" 2>/dev/null
  [ -n "$ETCD_PID" ] && kill "$ETCD_PID" 2>/dev/null && wait "$ETCD_PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

etcd --name cs1 --data-dir "$DIR/etcd" --listen-client-urls http://127.0.0.1:24190 --advertise-client-urls http://127.0.0.1:24190 \
  --listen-peer-urls http://127.0.0.1:24191 --initial-advertise-peer-urls http://127.0.0.1:24191 \
  --initial-cluster cs1=http://127.0.0.1:24191 >"$DIR/etcd.log" 2>&1 &
ETCD_PID=$!
node "$ROOT/dist/netmaster/main.js" --etcd http://127.0.0.1:24190 --listen-url 127.0.0.1:24199 --insecure --log-level warn >"$DIR/netmaster.log" 2>&1 &
NM_PID=$!
for _ in $(seq 1 150); do curl -fs "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/healthz" >/dev/null || { echo "contiv-session: netmaster did not come up"; cat "$DIR/netmaster.log"; exit 1; }

pass=0; fail=0
# step EXPECTED_RC PATTERN ARGS...: run Contiv's netctl, check its exit code and that its output (stdout and stderr) matches PATTERN (ERE; '' = anything)
step() {
  local want=$1 pat=$2; shift 2
  local out rc
  out=$("$NETCTL" --netmaster "$URL" "$@" 2>&1); rc=$?
  local ok=1
  [ "$rc" = "$want" ] || ok=0
  if [ -n "$pat" ] && ! grep -Eq -- "$pat" <<<"$out"; then ok=0; fi
  local first
  first=$(grep -v '^\s*$' <<<"$out" | head -1 | cut -c1-110)
  if [ $ok = 1 ]; then pass=$((pass + 1)); printf 'PASS rc=%s  netctl %s  | %s\n' "$rc" "$*" "$first"
  else fail=$((fail + 1)); printf 'FAIL rc=%s (want %s /%s/)  netctl %s\n%s\n' "$rc" "$want" "$pat" "$*" "$out"; fi
}

step 0 'Server Version' version
# global
step 0 'Fabric mode: default' global info
step 0 '"clusterMode"' global inspect
step 0 '' global set --fwd-mode bridge --arp-mode proxy --vlan-range 1-4094 --vxlan-range 1-10000
step 0 'Vxlan range: 1-10000' global info
step 3 'vlans' global set --vlan-range 5000-6000
# tenants
step 0 '' tenant create t1
step 0 '^t1' tenant ls -q
step 3 'tenant nosuch' tenant inspect nosuch
# deletes of missing objects fail visibly (Contiv's client takes a 404 on DELETE for success)
step 3 'tenant nosuch does not exist' tenant rm nosuch
# networks
step 0 '' net create -t t1 -e vlan -p 100 -s 10.20.1.0/24 -g 10.20.1.1 net-vlan
step 0 '' net create -t t1 -e vxlan -s 10.20.2.0/24 -g 10.20.2.1 -s6 2001:db8:2::/64 -g6 2001:db8:2::1 net-vx
# Contiv's dual-stack form with the IPv6 gateway at ::1 and the IPv4 one at .254 (refused before issue 18)
step 0 '' net create -t t1 -s 10.20.3.0/24 -g 10.20.3.254 -s6 2001:db8:3::/64 -g6 2001:db8:3::1 net-v6gw
step 3 'overlap' net create -t t1 -e vxlan -s 10.20.1.128/25 net-overlap
step 3 '' net create -t nosuch -s 10.30.0.0/24 net-x
step 0 'net-vx' net ls -t t1
# created without -p: packet tag 0 in its config (net ls), the allocated VNI in its Oper, as against Contiv
step 0 'net-vx +data +vxlan +0 +10\.20\.2\.0/24' net ls -t t1
step 0 '"pktTag": [1-9]' net inspect -t t1 net-vx
step 0 '"allocatedIPAddresses"|"availableIPAddresses"' net inspect -t t1 net-vx
step 0 '"Networks"' tenant inspect t1
step 3 'network' net rm -t t1 nosuch
# netprofiles, policies, groups
step 0 '' netprofile create -t t1 -b 10mbps -d 10 -s 64 np1
step 0 'np1' netprofile ls -t t1
step 0 '"profileName": "np1"' netprofile inspect -t t1 np1
step 0 '' policy create -t t1 pol-web
step 0 '' policy create -t t1 pol-db
step 0 'pol-web' policy ls -t t1
step 0 '' group create -t t1 -p pol-web -n np1 net-vlan web
step 0 '' group create -t t1 -p pol-db -r 10.20.1.100-10.20.1.120 net-vlan db
step 3 'network' group create -t t1 nosuch-net g-x
step 0 'web' group ls -t t1
step 0 '"groupTag": "web.t1"' group inspect -t t1 web
step 0 '"Policies"' group inspect -t t1 web
step 0 '"allocatedIPAddresses"|"availableIPAddresses"' group inspect -t t1 db
step 0 '"EndpointGroups"' policy inspect -t t1 pol-web
# rules
step 0 '' policy rule-add -t t1 -d in -p 10 -g db -l tcp -P 5432 -j allow pol-web 1
step 0 '' policy rule-add -t t1 -d out -e db -l tcp -P 5432 -j allow pol-web 2
step 0 '' policy rule-add -t t1 -d in -i 10.9.0.0/16 -l udp -P 53 -j deny pol-web 3
step 0 '' policy rule-add -t t1 -d in -n net-vx -l icmp -j allow pol-db 1
# refused by Contiv's netctl itself, before any request (exit 1, as against Contiv)
step 1 'both from-group' policy rule-add -t t1 -d in -n net-vx -g web -j allow pol-db 2
step 1 'Unknown direction' policy rule-add -t t1 -d sideways pol-db 3
# a group with an address: the group's members inside it (refused before issue 18)
step 0 '' policy rule-add -t t1 -d in -g web -i 10.20.1.0/24 -l tcp -P 80 pol-db 4
# a port without protocol: Contiv took it and ignored the port (the rule matched every protocol); netloom refuses it, and says why
step 3 'needs protocol tcp or udp.*Contiv ignored' policy rule-add -t t1 -d in -g web -P 8080 pol-db 5
step 3 'is used by rule' group rm -t t1 db
step 0 '5432' policy rule-ls -t t1 pol-web
step 0 '' policy rule-rm -t t1 pol-web 3
step 3 'rule' policy rule-rm -t t1 pol-web 99
step 3 'in use|IN_USE' policy rm -t t1 pol-web
# app profiles, external contracts, services
step 0 '' app-profile create -t t1 -g web,db app1
step 0 'app1' app-profile ls -t t1
step 0 'web' app-profile group-ls -t t1 app1
step 0 '' app-profile update -t t1 -g web app1
step 0 '' external-contracts create -t t1 -c -a uni/tn-x/brc-y ec1
step 0 'ec1' external-contracts ls -t t1
step 0 'Creating ServiceLB t1:svc1' service create -t t1 -s net-vlan -l app=web -p 80:8080:TCP svc1
# an endpoint (a container plugged by an agent; Contiv's netctl cannot make one), labelled app=web: a provider of svc1
EP=$(curl -fs -X POST "$URL/api/v1/endpoints/" -d '{"tenantName":"t1","networkName":"net-vlan","groupName":"web","containerID":"ctr-web-1","homingHost":"host1","labels":{"app":"web"}}' |
  sed -n 's/.*"endpointID":"\([^"]*\)".*/\1/p')
[ -n "$EP" ] || { echo "contiv-session: could not create the endpoint"; exit 1; }
step 0 'svc1' service ls -t t1
step 0 '"numProviders": 1' service inspect -t t1 svc1
step 0 '"labels": "map\[app:web\]"' endpoint inspect ctr-web-1
step 0 '"numEndpoints": 1' group inspect -t t1 web
step 0 '"totalEndpoints": 1' tenant inspect t1
# aci-gw, bgp
step 0 '' aci-gw set -e yes -i no -d dom1
step 0 'Enforce policies: yes' aci-gw info
step 0 '"numAppProfiles"' aci-gw inspect
step 0 '' bgp create --router-ip 10.99.0.2/24 --as 65001 --neighbor-as 65000 --neighbor 10.99.0.1 host1
step 0 'host1' bgp ls
step 0 '"routerip": "10.99.0.2/24"' bgp inspect host1
step 3 '' bgp rm nosuch-host
# endpoints
step 3 'endpoint' endpoint inspect nosuch-ep
# teardown, in Contiv's order
step 0 '' bgp rm host1
step 0 '' service rm -t t1 svc1
step 0 '' app-profile rm -t t1 app1
step 3 'nosuch-too' group rm -t t1 nosuch-too
step 0 '' policy rule-rm -t t1 pol-web 1
step 0 '' policy rule-rm -t t1 pol-web 2
step 0 '' policy rule-rm -t t1 pol-db 1
step 0 '' policy rule-rm -t t1 pol-db 4
curl -fs -X DELETE "$URL/api/v1/endpoints/$EP/" >/dev/null
step 0 '' group rm -t t1 web
step 0 '' group rm -t t1 db
step 0 '' external-contracts rm -t t1 ec1
step 0 '' policy rm -t t1 pol-web
step 0 '' policy rm -t t1 pol-db
step 0 '' netprofile rm -t t1 np1
step 3 'netprofile' netprofile rm -t t1 np1
step 3 'in use|IN_USE|holds' tenant rm t1
step 0 '' net rm -t t1 net-vlan
step 0 '' net rm -t t1 net-vx
step 0 '' net rm -t t1 net-v6gw
step 0 '' tenant rm t1
step 3 'tenant' tenant rm t1

echo
echo "contiv-session: $pass passed, $fail failed (Contiv netctl: $NETCTL)"
[ "$fail" = 0 ]
