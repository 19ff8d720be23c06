#!/usr/bin/env bash
# netloom quickstart: installs everything, brings up a lab of 2 simulated hosts (each a network
# namespace with its own Open vSwitch and its own netplugin agent, joined by an underlay, with
# etcd and netmaster), defines networks with netctl, starts containers through the real CNI
# plugin, and shows with real traffic: VLAN and VXLAN across hosts, two tenants with the same
# subnet kept apart, a policy that lets one port into a group and denies the rest, containers of
# both tenants reaching the world (the lab's tor) through their host with NAT, the host reaching
# its containers, a published port, and a load-balanced service. Safe to run again. Remove it all
# with: bin/netloom-lab down
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
NETCTL="$ROOT/bin/netctl"   # finds the lab's netmaster and its credentials by itself

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
blue-db    host2  blue   db-vxlan   10.10.2.20  db
"
while read -r name host tenant net ip group; do
  [ -n "$name" ] || continue
  "$LABCTL" rm "$name" >/dev/null 2>&1 || true
  "$LABCTL" run "$host" "$name" --tenant "$tenant" --network "$net" --ip "$ip" ${group:+--group "$group"}
done <<< "$CONTAINERS"

ping_ok() { "$LABCTL" exec "$1" -- ping -c 2 -W 2 -i 0.2 -q "$2" >/dev/null 2>&1; }
tcp_ok() { # client server-name server-ip [port]: 1 s of TCP with iperf3
  local port=${4:-5201}
  "$LABCTL" exec "$2" -- timeout 10 iperf3 -s -1 -B "$3" -p "$port" >/dev/null 2>&1 &
  local srv=$!
  sleep 0.4
  local rate
  rate=$("$LABCTL" exec "$1" -- iperf3 -c "$3" -p "$port" -t 1 --connect-timeout 1500 -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e6 | floor') || rate=""
  kill "$srv" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
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
# group db has db-policy: in allow tcp/5432 at priority 10, in deny everything at priority 1
if r=$(tcp_ok blue-x1 blue-db 10.10.2.20 5432); then ok "policy: blue-x1 -> blue-db (group db) TCP 5432 allowed by db-policy rule 1: ${r} Mbit/s"; else bad "policy: TCP 5432 to group db should pass"; fi
if tcp_ok blue-x1 blue-db 10.10.2.20 5201 >/dev/null; then bad "policy: TCP 5201 to group db passed despite the deny rule"; else ok "policy: blue-x1 -> blue-db TCP 5201 denied by db-policy rule 2"; fi
if ping_ok blue-x1 10.10.2.20; then bad "policy: ping to group db passed despite the deny rule"; else ok "policy: blue-x1 -> blue-db ping denied (rule 2)"; fi
if ping_ok blue-db 10.10.2.11; then ok "policy: blue-db -> blue-x1 ping allowed (db-policy has no out rules)"; else bad "policy: ping from group db should pass"; fi

say "beyond the tenant network: the world, the host, published ports, a service"
TOR_IP=$("$LABCTL" status -o json | jq -r '.tor.dataIp')
if ping_ok blue-v1 "$TOR_IP" && ping_ok red-v1 "$TOR_IP"; then ok "egress: blue-v1 and red-v1 (same subnet, both on host1) reach the tor ($TOR_IP) through host1, NATed"; else bad "egress to the tor"; fi
if r=$(tcp_ok blue-x1 tor "$TOR_IP" 5301); then ok "egress: blue-x1 -> tor TCP (iperf3 1 s, NAT to host1's address): ${r} Mbit/s"; else bad "egress TCP to the tor"; fi
if "$LABCTL" exec host1 -- ping -c 2 -W 2 -i 0.2 -q 10.10.2.11 >/dev/null 2>&1; then ok "host access: host1 pings its container blue-x1 (10.10.2.11)"; else bad "host1 -> blue-x1"; fi
# a published port: blue-web on host1 publishes 8080 -> 5201 (CNI portMappings); the tor reaches it on host1's address
HOST1_IP=$("$LABCTL" status -o json | jq -r '.hosts[] | select(.name == "host1") | .dataIp')
"$LABCTL" rm blue-web >/dev/null 2>&1 || true
"$LABCTL" run host1 blue-web --tenant blue --network db-vxlan --ip 10.10.2.40 --publish 8080:5201/tcp
serve() { # NAME PORT: a one-line TCP server in a container that answers with its name (node, always installed)
  "$LABCTL" exec "$1" -- timeout 20 node -e "require('net').createServer((s) => s.end(process.argv[1] + '\\n')).listen(Number(process.argv[2]))" "$1" "$2" >/dev/null 2>&1 &
}
ask() { # FROM IP PORT: the first line a TCP server at IP:PORT sends, seen from namespace FROM
  "$LABCTL" exec "$1" -- timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3 && head -n 1 <&3" 2>/dev/null
}
serve blue-web 5201
sleep 0.5
if [ "$(ask tor "$HOST1_IP" 8080)" = blue-web ]; then ok "published port: the tor reaches blue-web (host1) at $HOST1_IP:8080"; else bad "published port 8080 on host1 from the tor"; fi
# a service: two providers labelled app=echo on both hosts behind one address allocated from db-vxlan
for p in "blue-e1 host1 10.10.2.41" "blue-e2 host2 10.10.2.42"; do
  set -- $p
  "$LABCTL" rm "$1" >/dev/null 2>&1 || true
  "$LABCTL" run "$2" "$1" --tenant blue --network db-vxlan --ip "$3" --label app=echo
done
"$NETCTL" service rm -t blue echo >/dev/null 2>&1 || true
"$NETCTL" service create -t blue -s db-vxlan -l app=echo -p 7000:7001:TCP echo
SVC_IP=$("$NETCTL" service inspect -t blue echo -o json | jq -r '.Oper.serviceIP')
serve blue-e1 7001
serve blue-e2 7001
sleep 0.5
SEEN=$(for i in 1 2 3 4 5 6 7 8 9 10 11 12; do ask blue-x1 "$SVC_IP" 7000; done | sort | uniq -c | tr -s ' ' | paste -sd, -)
if [[ "$SEEN" == *blue-e1* && "$SEEN" == *blue-e2* ]]; then ok "service echo at $SVC_IP:7000: 12 connections from blue-x1 spread over both providers ($SEEN)"; else bad "service spread: $SEEN"; fi
if "$NETCTL" consistency >/dev/null; then ok "netmaster state consistent (allocations match objects)"; else bad "netctl consistency"; fi

say "lab status"
"$LABCTL" status
say "report"
printf '    %s\n' "${REPORT[@]}"
echo
echo "Try:  bin/netloom-lab exec blue-x1 -- ping 10.10.2.12     bin/netctl endpoint ls"
echo "      bin/netloom-lab run host2 web3 --tenant blue --network web-vlan"
echo "      bin/netloom-lab podman host1 -- run --rm --network blue/db-vxlan netloom/busybox ip -4 addr"
echo "      bin/netctl service inspect -t blue echo          bin/netloom-lab exec blue-x1 -- ping $TOR_IP"
echo "Security: every interface uses the lab's certificates in /run/netloom-lab/netloom/pki (docs/security.md);"
echo "          netctl finds its credentials in /run/netloom-lab/netloom/netctl.json"
echo "Remove everything:  bin/netloom-lab down"
exit $FAILED
