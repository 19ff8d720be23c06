#!/usr/bin/env bash
# netloom quickstart: installs everything, brings up a lab of 2 simulated hosts (each a network
# namespace with its own Open vSwitch and its own netplugin agent, joined by an underlay, with
# etcd and netmaster), defines networks with netctl, starts containers through the real CNI
# plugin, and shows with real traffic: VLAN and VXLAN across hosts, and two tenants with the same
# subnet kept apart. Safe to run again. Remove it all with: bin/netloom-lab down
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LABCTL="$ROOT/bin/netloom-lab"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '    \033[32mok\033[0m  %s\n' "$*"; REPORT+=("ok    $*"); }
bad() { printf '    \033[31mFAIL\033[0m %s\n' "$*"; REPORT+=("FAIL  $*"); FAILED=1; }
FAILED=0
REPORT=()

if [ "$(id -u)" != 0 ]; then echo "quickstart: run as root" >&2; exit 1; fi

say "install (idempotent)"
deploy/install.sh

say "lab: 2 hosts, etcd, netmaster (REST + agent API), one netplugin per host"
"$LABCTL" up --hosts 2 --etcd-members 1 --netmasters 1
NETCTL="$ROOT/bin/netctl"   # finds the lab's netmaster by itself

say "intent through netctl (Contiv's commands)"
demo_intent() {
  "$NETCTL" tenant create blue
  "$NETCTL" net create -t blue -e vlan -s 10.10.1.0/24 -g 10.10.1.1 web-vlan
  "$NETCTL" net create -t blue -e vxlan -s 10.10.2.0/24 -g 10.10.2.1 db-vxlan
  "$NETCTL" netprofile create -t blue -b 10mbps -d 10 -s 1024 gold
  "$NETCTL" policy create -t blue db-policy
  "$NETCTL" policy rule-add -t blue -d in -l tcp -P 5432 -j allow -p 10 db-policy 1
  "$NETCTL" policy rule-add -t blue -d in -j deny -p 1 db-policy 2
  "$NETCTL" group create -t blue -n gold web-vlan web
  "$NETCTL" group create -t blue -p db-policy db-vxlan db
}
if "$NETCTL" tenant inspect blue >/dev/null 2>&1; then echo "    (tenant blue exists from an earlier run)"; else demo_intent; fi
# tenant red reuses blue's VLAN subnet: same addresses, a separate network
if ! "$NETCTL" tenant inspect red >/dev/null 2>&1; then "$NETCTL" tenant create red; fi
if ! "$NETCTL" net inspect -t red web-vlan >/dev/null 2>&1; then "$NETCTL" net create -t red -e vlan -s 10.10.1.0/24 -g 10.10.1.1 web-vlan; fi
"$NETCTL" net ls -t blue
"$NETCTL" net ls -t red

say "containers through the real CNI plugin (bin/netloom-cni -> each host's netplugin)"
#   name     host   tenant network   address
CONTAINERS="
blue-v1    host1  blue   web-vlan   10.10.1.11
blue-v2    host2  blue   web-vlan   10.10.1.12
blue-x1    host1  blue   db-vxlan   10.10.2.11
blue-x2    host2  blue   db-vxlan   10.10.2.12
red-v1     host1  red    web-vlan   10.10.1.12
red-v2     host2  red    web-vlan   10.10.1.13
"
while read -r name host tenant net ip; do
  [ -n "$name" ] || continue
  "$LABCTL" rm "$name" >/dev/null 2>&1 || true
  "$LABCTL" run "$host" "$name" --tenant "$tenant" --network "$net" --ip "$ip"
done <<< "$CONTAINERS"

ping_ok() { "$LABCTL" exec "$1" -- ping -c 2 -W 2 -i 0.2 -q "$2" >/dev/null 2>&1; }
tcp_ok() { # client server-name server-ip: 1 MB over TCP, checked byte for byte
  "$LABCTL" exec "$2" -- timeout 10 iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.4
  local rate
  rate=$("$LABCTL" exec "$1" -- iperf3 -c "$3" -t 1 -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e6 | floor') || rate=""
  wait "$srv" || true
  [ -n "$rate" ] && [ "$rate" != null ] && echo "$rate"
}

say "traffic"
if ping_ok blue-v1 10.10.1.12; then ok "blue VLAN: blue-v1 (host1) -> blue-v2 (host2) ping"; else bad "blue VLAN ping host1 -> host2"; fi
if r=$(tcp_ok blue-v1 blue-v2 10.10.1.12); then ok "blue VLAN: host1 -> host2 TCP (iperf3 1 s): ${r} Mbit/s"; else bad "blue VLAN TCP host1 -> host2"; fi
if ping_ok blue-x1 10.10.2.12; then ok "blue VXLAN: blue-x1 (host1) -> blue-x2 (host2) ping"; else bad "blue VXLAN ping host1 -> host2"; fi
if r=$(tcp_ok blue-x1 blue-x2 10.10.2.12); then ok "blue VXLAN: host1 -> host2 TCP (iperf3 1 s): ${r} Mbit/s"; else bad "blue VXLAN TCP host1 -> host2"; fi
if ping_ok red-v1 10.10.1.13; then ok "red VLAN (same subnet as blue): red-v1 (host1) -> red-v2 (host2) ping"; else bad "red ping own peer"; fi
if ping_ok red-v1 10.10.1.11; then bad "red-v1 reached blue-v1 (10.10.1.11): tenants not isolated"; else ok "red-v1 cannot reach blue-v1 at 10.10.1.11 (tenant isolation)"; fi
if ping_ok blue-v1 10.10.1.12 && ping_ok red-v2 10.10.1.12; then ok "10.10.1.12 answers in both tenants: blue-v2 (host2) for blue, red-v1 (host1) for red"; else bad "the same address in two tenants"; fi
if "$NETCTL" consistency >/dev/null; then ok "netmaster state consistent (allocations match objects)"; else bad "netctl consistency"; fi

say "lab status"
"$LABCTL" status
say "report"
printf '    %s\n' "${REPORT[@]}"
echo
echo "Try:  bin/netloom-lab exec blue-x1 -- ping 10.10.2.12     bin/netctl endpoint ls"
echo "      bin/netloom-lab run host2 web3 --tenant blue --network web-vlan"
echo "      bin/netloom-lab podman host1 -- run --rm --network blue/db-vxlan netloom/busybox ip -4 addr"
echo "Remove everything:  bin/netloom-lab down"
exit $FAILED
