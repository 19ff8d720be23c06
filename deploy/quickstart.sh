#!/usr/bin/env bash
# netloom quickstart: installs everything, brings up a lab of 2 simulated hosts (each a network
# namespace with its own Open vSwitch, joined by an underlay, with an etcd cluster), and shows
# what works so far with real traffic. Safe to run again. Remove it all with: bin/netloom-lab down
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
LABCTL="$ROOT/bin/netloom-lab"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
ok() { printf '    \033[32mok\033[0m  %s\n' "$*"; }
bad() { printf '    \033[31mFAIL\033[0m %s\n' "$*"; FAILED=1; }
FAILED=0

if [ "$(id -u)" != 0 ]; then echo "quickstart: run as root (sudo deploy/quickstart.sh)" >&2; exit 1; fi

say "install (idempotent)"
deploy/install.sh

say "lab: 2 hosts, etcd, netmaster"
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
"$NETCTL" net ls -t blue
"$NETCTL" policy rule-ls -t blue db-policy

say "containers: two on host1, plugged into host1's OVS"
for c in demo-a demo-b; do "$LABCTL" detach "$c" >/dev/null 2>&1 || true; done
"$LABCTL" attach host1 demo-a --ip 10.77.0.1/24 >/dev/null
"$LABCTL" attach host1 demo-b --ip 10.77.0.2/24 >/dev/null

say "what works so far"
if "$LABCTL" exec host1 -- ping -c 2 -W 2 -q 10.213.0.2 >/dev/null; then ok "host1 -> host2 over the underlay (ping)"; else bad "host1 -> host2 ping"; fi
if "$LABCTL" exec host1 -- ovs-vsctl --timeout=5 br-exists br-int; then ok "host1 runs its own Open vSwitch (userspace datapath)"; else bad "host1 OVS"; fi
if "$LABCTL" exec demo-a -- ping -c 2 -W 2 -q 10.77.0.2 >/dev/null; then ok "demo-a -> demo-b through OVS (ping)"; else bad "demo-a -> demo-b ping"; fi
"$LABCTL" exec demo-b -- timeout 10 iperf3 -s -1 -B 10.77.0.2 >/dev/null 2>&1 &
sleep 0.5
if rate=$("$LABCTL" exec demo-a -- iperf3 -c 10.77.0.2 -t 2 -J 2>/dev/null | jq -r '.end.sum_received.bits_per_second / 1e6 | floor'); then
  ok "demo-a -> demo-b TCP (iperf3, 2 s): ${rate} Mbit/s"
else bad "demo-a -> demo-b TCP"; fi
wait || true
if "$NETCTL" consistency >/dev/null; then ok "netmaster state consistent (allocations match objects)"; else bad "netctl consistency"; fi
if ETCDCTL_API=3 "$LABCTL" exec host2 -- etcdctl --endpoints "$("$LABCTL" status -o json | jq -r '.etcd.endpoints | join(",")')" endpoint health >/dev/null 2>&1; then
  ok "etcd reachable and healthy from host2"
else bad "etcd from host2"; fi

say "lab status"
"$LABCTL" status
echo
echo "Try:  bin/netloom-lab exec demo-a -- ping 10.77.0.2     bin/netloom-lab status -o json"
echo "Remove everything:  bin/netloom-lab down"
exit $FAILED
