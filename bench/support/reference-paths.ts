/**
 * The reference paths of the dataplane benchmark, each two namespaces (`dp…`) that can reach each
 * other: a direct veth pair, a Linux bridge, kernel VXLAN, a plain Open vSwitch netdev bridge
 * with a single NORMAL flow (its own private OVS in namespace `dpovs`), the same across two OVS
 * instances, and those two joined by OVS's VXLAN tunnel instead (`ovs-vxlan-2host`); each NORMAL
 * path twice: with userspace TSO (as netloom's lab hosts run) and in a `-txoff` variant without it
 * (tx checksum off in the namespaces, the older workaround). Every path has a `cleanup` that is
 * safe to call after a partial setup; `cleanupStale` removes what an earlier, killed run left behind.
 */
import { rmSync } from 'node:fs';
import { run } from '../../lib/exec';
import { addAddr, addBridge, addNetns, addVeth, delNetns, linkUp, setMaster } from '../../deploy/lab/netns';
import { ovsEnv, startOvs, stopOvs } from '../../deploy/lab/ovs-instance';

export interface BenchPath {
  /** the path's name in the table and the JSON */
  name: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
  /** qperf's test port (`-ip`) when it must be fixed (a service forwards only its ports) */
  qperfDataPort?: number;
  /** the servers listen on every address rather than serverIp (a service's address is not theirs) */
  listenAny?: boolean;
  /** the OVS instances (directories) its packets cross (support/switch-cpu.ts); absent for kernel paths */
  switchDirs?: readonly string[];
  /** remove everything the path made; safe to call twice or after a failed setup */
  cleanup(): Promise<void>;
}

/** The namespaces, OVS directories and subnet of one OVS reference path (pure). */
export function ovsLayout(txOff: boolean): {
  ovsNs: string;
  hostNs: [string, string];
  ctrNs: [string, string, string, string];
  dirs: [string, string, string];
  octet: number;
} {
  const x = txOff ? 't' : '';
  return {
    ovsNs: `dpovs${x}`,
    hostNs: [`dpoh1${x}`, `dpoh2${x}`],
    ctrNs: [`dpo1${x}`, `dpo2${x}`, `dpo3${x}`, `dpo4${x}`],
    dirs: [`/tmp/nl-dataplane/ovs${x}`, `/tmp/nl-dataplane/ovs-h1${x}`, `/tmp/nl-dataplane/ovs-h2${x}`],
    octet: txOff ? 6 : 4,
  };
}

/** The namespaces, OVS directories and addresses of the VXLAN reference path (pure). */
export function ovsVxlanLayout(): {
  hostNs: [string, string];
  ctrNs: [string, string];
  dirs: [string, string];
  /** the containers' subnet (x.x.x.N/24) and the VTEPs' (underlay) subnet */
  ctrNet: string;
  vtepNet: string;
} {
  return {
    hostNs: ['dpxh1', 'dpxh2'],
    ctrNs: ['dpx1', 'dpx2'],
    dirs: ['/tmp/nl-dataplane/ovs-x1', '/tmp/nl-dataplane/ovs-x2'],
    ctrNet: '10.9.0',
    vtepNet: '10.209.0',
  };
}

/** netloom's VXLAN containers' MTU (room for the 50-byte outer header on a 1500-byte underlay) */
export const VXLAN_CTR_MTU = 1450;

const OVS_LAYOUTS = [ovsLayout(false), ovsLayout(true)];
const VXLAN_LAYOUT = ovsVxlanLayout();
const ALL_NETNS = [
  'dpve1',
  'dpve2',
  'dplbh',
  'dplb1',
  'dplb2',
  'dpkv1',
  'dpkv2',
  ...OVS_LAYOUTS.flatMap((l) => [l.ovsNs, ...l.hostNs, ...l.ctrNs]),
  ...VXLAN_LAYOUT.hostNs,
  ...VXLAN_LAYOUT.ctrNs,
];

async function delAll(names: string[]): Promise<void> {
  for (const n of names) await delNetns(n);
}

/** Remove namespaces and the private OVS a previous run may have left. */
export async function cleanupStale(): Promise<void> {
  await dropOvs([...OVS_LAYOUTS.flatMap((l) => l.dirs), ...VXLAN_LAYOUT.dirs], ALL_NETNS);
}

/** Build path `p` with `setup`; when setup fails, undo what it made (`p.cleanup`) and rethrow. */
async function built(p: BenchPath, setup: () => Promise<void>): Promise<BenchPath> {
  try {
    await setup();
    return p;
  } catch (e) {
    await p.cleanup();
    throw e;
  }
}

/** Two namespaces joined by one veth pair. */
export async function vethPath(): Promise<BenchPath> {
  const p: BenchPath = {
    name: 'veth',
    clientNs: 'dpve1',
    serverNs: 'dpve2',
    serverIp: '10.2.0.2',
    cleanup: () => delAll(['dpve1', 'dpve2']),
  };
  return built(p, async () => {
    await addNetns('dpve1');
    await addNetns('dpve2');
    await addVeth('eth0', 'dpve1', 'eth0', 'dpve2');
    for (const [ns, ip] of [
      ['dpve1', '10.2.0.1'],
      ['dpve2', '10.2.0.2'],
    ] as const) {
      await addAddr('eth0', `${ip}/24`, ns);
      await linkUp('eth0', ns);
    }
  });
}

/** Two namespaces on a Linux bridge that sits in its own namespace. */
export async function linuxBridgePath(): Promise<BenchPath> {
  const all = ['dplb1', 'dplb2', 'dplbh'];
  const p: BenchPath = { name: 'linux-bridge', clientNs: 'dplb1', serverNs: 'dplb2', serverIp: '10.3.0.2', cleanup: () => delAll(all) };
  return built(p, async () => {
    for (const n of all) await addNetns(n);
    await addBridge('br-lin', 'dplbh');
    for (const i of [1, 2]) {
      await addVeth(`lbv${i}`, 'dplbh', 'eth0', `dplb${i}`);
      await setMaster(`lbv${i}`, 'br-lin', 'dplbh');
      await linkUp(`lbv${i}`, 'dplbh');
      await addAddr('eth0', `10.3.0.${i}/24`, `dplb${i}`);
      await linkUp('eth0', `dplb${i}`);
    }
  });
}

/** Kernel VXLAN (VNI 100, port 4789) between two namespaces over a veth underlay. */
export async function kernelVxlanPath(): Promise<BenchPath> {
  const p: BenchPath = {
    name: 'kernel-vxlan',
    clientNs: 'dpkv1',
    serverNs: 'dpkv2',
    serverIp: '10.1.3.2',
    cleanup: () => delAll(['dpkv1', 'dpkv2']),
  };
  return built(p, async () => {
    await addNetns('dpkv1');
    await addNetns('dpkv2');
    await addVeth('u0', 'dpkv1', 'u0', 'dpkv2');
    for (const i of [1, 2]) {
      const ns = `dpkv${i}`;
      await addAddr('u0', `10.201.0.${i}/24`, ns);
      await linkUp('u0', ns);
      await run('ip', [
        '-n',
        ns,
        'link',
        'add',
        'vx0',
        'type',
        'vxlan',
        'id',
        '100',
        'local',
        `10.201.0.${i}`,
        'remote',
        `10.201.0.${3 - i}`,
        'dstport',
        '4789',
        'dev',
        'u0',
      ]);
      await addAddr('vx0', `10.1.3.${i}/24`, ns);
      await linkUp('vx0', ns);
    }
  });
}

/** A private OVS in namespace `ns` with a netdev bridge `br-dp` (standalone, OpenFlow13), with or without userspace TSO. */
async function ovsHost(ns: string, dir: string, tso: boolean): Promise<{ netns: string; env: NodeJS.ProcessEnv }> {
  await addNetns(ns);
  await startOvs(dir, ns, { userspaceTso: tso });
  const opts = { netns: ns, env: ovsEnv(dir) };
  await run('ovs-vsctl', ['add-br', 'br-dp', '--', 'set', 'bridge', 'br-dp', 'datapath_type=netdev', 'protocols=OpenFlow13'], opts);
  return opts;
}

/** Replace br-dp's flows by the single flow `priority=0,actions=NORMAL`. */
async function onlyNormalFlow(opts: { netns: string; env: NodeJS.ProcessEnv }): Promise<void> {
  await run('ovs-ofctl', ['-O', 'OpenFlow13', 'del-flows', 'br-dp'], opts);
  await run('ovs-ofctl', ['-O', 'OpenFlow13', 'add-flow', 'br-dp', 'priority=0,actions=NORMAL'], opts);
}

/** A namespace `ctrNs` whose eth0 (tx checksum off when `txOff`, MTU `mtu` when given) is plugged into br-dp as `port`. */
async function plugIntoOvs(
  opts: { netns: string; env: NodeJS.ProcessEnv },
  ctrNs: string,
  port: string,
  cidr: string,
  txOff: boolean,
  mtu?: number,
): Promise<void> {
  await addNetns(ctrNs);
  await addVeth(port, opts.netns, 'eth0', ctrNs);
  await linkUp(port, opts.netns);
  await run('ovs-vsctl', ['add-port', 'br-dp', port], opts);
  await addAddr('eth0', cidr, ctrNs);
  await linkUp('eth0', ctrNs, mtu === undefined ? [] : ['mtu', String(mtu)]);
  if (txOff) await run('ethtool', ['-K', 'eth0', 'tx', 'off'], { netns: ctrNs });
}

async function dropOvs(dirs: string[], netns: string[]): Promise<void> {
  for (const d of dirs) await stopOvs(d).catch(() => undefined);
  await delAll(netns);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * A plain OVS netdev bridge `br-dp` (one flow: priority=0 actions=NORMAL) in its own OVS instance
 * in namespace `dpovs`, with two namespaces plugged by veth: with userspace TSO (tx checksum
 * offload on inside), or `txOff`: without TSO, tx checksum off inside (`ovs-normal-txoff`).
 */
export async function ovsNormalPath(txOff = false): Promise<BenchPath> {
  const l = ovsLayout(txOff);
  const [c1, c2] = l.ctrNs;
  const p: BenchPath = {
    name: txOff ? 'ovs-normal-txoff' : 'ovs-normal',
    clientNs: c1,
    serverNs: c2,
    serverIp: `10.${l.octet}.0.2`,
    switchDirs: [l.dirs[0]],
    cleanup: () => dropOvs([l.dirs[0]], [c1, c2, l.ovsNs]),
  };
  return built(p, async () => {
    const opts = await ovsHost(l.ovsNs, l.dirs[0], !txOff);
    await plugIntoOvs(opts, c1, 'dpov1', `10.${l.octet}.0.1/24`, txOff);
    await plugIntoOvs(opts, c2, 'dpov2', `10.${l.octet}.0.2/24`, txOff);
    await onlyNormalFlow(opts);
  });
}

/**
 * The same as `ovsNormalPath` but across two OVS instances (namespaces `dpoh1`, `dpoh2`, one
 * NORMAL flow each) joined by a veth pair that is a port of both bridges: the topology of
 * netloom's cross-host paths (two userspace switches in a row) without netloom's pipeline.
 * `idlePorts`: that many more ports on each bridge, veths whose peers stay in the switch's
 * namespace, up and silent: polled on every pass of the switch's main loop like the other
 * containers' ports of a netloom host (docs/benchmarks.md, issue 17).
 */
export async function ovsNormal2HostPath(txOff = false, idlePorts = 0): Promise<BenchPath> {
  const l = ovsLayout(txOff);
  const [, , c3, c4] = l.ctrNs;
  const [h1ns, h2ns] = l.hostNs;
  const p: BenchPath = {
    name: txOff ? 'ovs-normal-2host-txoff' : 'ovs-normal-2host',
    clientNs: c3,
    serverNs: c4,
    serverIp: `10.${l.octet + 1}.0.4`,
    switchDirs: [l.dirs[1], l.dirs[2]],
    cleanup: () => dropOvs([l.dirs[1], l.dirs[2]], [c3, c4, h1ns, h2ns]),
  };
  return built(p, async () => {
    const h1 = await ovsHost(h1ns, l.dirs[1], !txOff);
    const h2 = await ovsHost(h2ns, l.dirs[2], !txOff);
    await addVeth('up1', h1ns, 'up2', h2ns);
    for (const [opts, port] of [
      [h1, 'up1'],
      [h2, 'up2'],
    ] as const) {
      await linkUp(port, opts.netns);
      await run('ovs-vsctl', ['add-port', 'br-dp', port], opts);
    }
    await plugIntoOvs(h1, c3, 'dpov3', `10.${l.octet + 1}.0.3/24`, txOff);
    await plugIntoOvs(h2, c4, 'dpov4', `10.${l.octet + 1}.0.4/24`, txOff);
    await addIdlePorts(h1, idlePorts);
    await addIdlePorts(h2, idlePorts);
    await onlyNormalFlow(h1);
    await onlyNormalFlow(h2);
  });
}

/**
 * `n` idle ports on br-dp: veths whose peers stay in the switch's namespace, up and silent,
 * polled on every pass of the switch's main loop like the other containers' ports of a netloom
 * host (docs/benchmarks.md, issue 17).
 */
async function addIdlePorts(opts: { netns: string; env: NodeJS.ProcessEnv }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await addVeth(`dpidle${i}`, opts.netns, `dpidlp${i}`, opts.netns);
    await linkUp(`dpidle${i}`, opts.netns);
    await linkUp(`dpidlp${i}`, opts.netns);
    await run('ovs-vsctl', ['add-port', 'br-dp', `dpidle${i}`], opts);
  }
}

/**
 * The two-switch reference with OVS's own VXLAN between the switches (`ovs-vxlan-2host`): on each
 * host `br-dp` (the container, a VXLAN port `vx0` to the other host's VTEP, VNI 100, NORMAL) and
 * `br-ph` (the uplink veth, NORMAL), the VTEP address on br-ph's local port: the layout OVS's
 * userspace tunnels need (the outer packet is routed by ovs/route and its next hop's MAC learned
 * on that bridge) and netloom's two-bridge hosts have. As netloom-vxlan: userspace TSO on in the
 * switch, tx checksum off and MTU 1450 in the containers (OVS 3.1 drops offloaded packets at a
 * tunnel push). What separates netloom-vxlan from it is netloom's pipeline, not the tunnel.
 */
export async function ovsVxlan2HostPath(idlePorts = 0): Promise<BenchPath> {
  const l = VXLAN_LAYOUT;
  const [c1, c2] = l.ctrNs;
  const [h1ns, h2ns] = l.hostNs;
  const p: BenchPath = {
    name: 'ovs-vxlan-2host',
    clientNs: c1,
    serverNs: c2,
    serverIp: `${l.ctrNet}.2`,
    switchDirs: l.dirs,
    cleanup: () => dropOvs(l.dirs, [c1, c2, h1ns, h2ns]),
  };
  return built(p, async () => {
    const h1 = await ovsHost(h1ns, l.dirs[0], true);
    const h2 = await ovsHost(h2ns, l.dirs[1], true);
    await addVeth('up1', h1ns, 'up2', h2ns);
    for (const [i, opts] of [
      [1, h1],
      [2, h2],
    ] as const) {
      await run('ovs-vsctl', ['add-br', 'br-ph', '--', 'set', 'bridge', 'br-ph', 'datapath_type=netdev'], opts);
      await linkUp(`up${i}`, opts.netns);
      await run('ovs-vsctl', ['add-port', 'br-ph', `up${i}`], opts);
      await addAddr('br-ph', `${l.vtepNet}.${i}/24`, opts.netns);
      await linkUp('br-ph', opts.netns);
      await run(
        'ovs-vsctl',
        [
          'add-port',
          'br-dp',
          'vx0',
          '--',
          'set',
          'interface',
          'vx0',
          'type=vxlan',
          `options:remote_ip=${l.vtepNet}.${3 - i}`,
          'options:key=100',
        ],
        opts,
      );
      await plugIntoOvs(opts, l.ctrNs[i - 1], `dpox${i}`, `${l.ctrNet}.${i}/24`, true, VXLAN_CTR_MTU);
      await addIdlePorts(opts, idlePorts);
      await onlyNormalFlow(opts);
    }
  });
}
