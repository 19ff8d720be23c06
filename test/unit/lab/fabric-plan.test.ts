/** The pure parts of the lab's fabric: agent paths and command line, CNI netconf, podman rewriting. */
import { strict as assert } from 'node:assert';
import { agentPaths, planLab } from '../../../deploy/lab/plan';
import { agentArgs, agentNetmaster, hostAgentArgs } from '../../../deploy/lab/agents';
import { firstIp, labNetconf } from '../../../deploy/lab/cni-call';
import { labContainerId } from '../../../deploy/lab/containers';
import {
  dockerdNsenterArgs,
  dockerdScript,
  dockerMountNsFile,
  podmanConflist,
  podmanNetworkName,
  rewritePodmanNetworks,
} from '../../../deploy/lab/engines';
import { isNetloomError } from '../../../lib/errors';
import { pkiPaths } from '../../../deploy/lab/pki';
import { netmasterArgs } from '../../../deploy/lab/lab';
import { securityGaps } from '../../../netmaster/auth/secure-config';

describe('lab fabric plan', () => {
  const plan = planLab({ name: 'tfx', hosts: 3, etcdMembers: 1, netmasters: 2 }, '/r');

  it('keeps every agent socket, state and engine dir under the lab dir, per host', () => {
    const p = agentPaths(plan, 'host2');
    for (const v of [p.dir, p.cniSocket, p.cnmSocket, p.cnmState, p.stateDir, p.log, p.dockerRun, p.dockerDir, p.podmanDir])
      assert.ok(v.startsWith('/r/tfx/hosts/host2/'), v);
    assert.equal(p.cnmSocket, `${p.dockerRun}/docker/plugins/netloom.sock`, 'where the private dockerd looks for plugins');
    assert.notEqual(agentPaths(plan, 'host1').cniSocket, p.cniSocket);
  });

  it('deals the netmaster replicas out round-robin and refuses agents without one', () => {
    assert.deepEqual(
      plan.hosts.map((h) => agentNetmaster(plan, h.name)),
      [plan.netmasters[0]?.grpcListen, plan.netmasters[1]?.grpcListen, plan.netmasters[0]?.grpcListen],
    );
    const none = planLab({ name: 'tfx', hosts: 1, etcdMembers: 1, netmasters: 0 }, '/r');
    assert.throws(
      () => agentNetmaster(none, 'host1'),
      (e: unknown) => isNetloomError(e) && e.field === 'netmasters',
    );
  });

  it("runs netplugin on the host's OVS, uplink eth1, VTEP = the host's data address", () => {
    const h = plan.hosts[2]!;
    const a = agentArgs(plan, h);
    const opt = (k: string) => a[a.indexOf(k) + 1];
    assert.equal(opt('--host'), 'host3');
    assert.equal(opt('--ovs-rundir'), `${h.ovsDir}/run`);
    assert.equal(opt('--datapath'), 'netdev');
    assert.equal(opt('--uplink'), 'eth1');
    assert.equal(opt('--vtep-ip'), `${h.dataIp}/24`);
    assert.equal(opt('--cni-socket'), agentPaths(plan, 'host3').cniSocket);
    assert.equal(opt('--cnm-socket'), agentPaths(plan, 'host3').cnmSocket);
    assert.ok(!a.includes('--routed-uplink'));
  });

  it('up --bgp: routed traffic through eth2, a /32 of the data subnet outside the hosts and the tor', () => {
    const h = plan.hosts[2]!;
    const a = agentArgs(plan, h, { bgp: true });
    assert.equal(a[a.indexOf('--routed-uplink') + 1], 'eth2');
    assert.equal(h.routedIp, h.dataIp.replace(/\.3$/, '.103'));
    assert.equal(h.routedPeer, 'tfx-host3-r');
  });

  it('hands the shim a netconf naming tenant, network, group and a requested address', () => {
    const c = labNetconf({ socket: '/s', tenant: 'blue', network: 'web', group: 'g', ip: '10.1.1.5' });
    assert.deepEqual(c, {
      cniVersion: '1.1.0',
      name: 'blue-web',
      type: 'netloom-cni',
      agentSocket: '/s',
      tenant: 'blue',
      network: 'web',
      group: 'g',
      args: { cni: { ips: ['10.1.1.5'] } },
    });
    assert.equal('args' in labNetconf({ socket: '/s', tenant: 't', network: 'n' }), false);
    assert.equal(firstIp({ ips: [{ address: '10.1.1.5/24' }] }), '10.1.1.5/24');
    assert.equal(firstIp({}), undefined);
    assert.equal(labContainerId(plan, 'c1'), 'lab-tfx-c1');
  });

  it('takes another netconf name and extra netconf keys, which win over its own', () => {
    const c = labNetconf({
      socket: '/s',
      tenant: 't',
      network: 'n',
      name: 'netloom',
      extra: { network: 'other', prevResult: { ips: [] } },
    });
    assert.equal(c.name, 'netloom');
    assert.equal(c.network, 'other');
    assert.deepEqual(c.prevResult, { ips: [] });
    assert.equal(c.tenant, 't');
  });

  it('starts the lab agent with the host options a fabric-file agent shares', () => {
    const h = plan.hosts[0]!;
    const shared = hostAgentArgs(plan, h);
    const pairs = Object.fromEntries(shared.flatMap((x, i) => (i % 2 === 0 ? [[x, shared[i + 1]]] : [])));
    assert.deepEqual(pairs, {
      '--host': 'host1',
      '--ovs-rundir': `${h.ovsDir}/run`,
      '--datapath': 'netdev',
      '--uplink': 'eth1',
      '--vtep-ip': `${h.dataIp}/24`,
    });
    assert.deepEqual(agentArgs(plan, h).slice(0, shared.length), shared);
  });

  it("netmaster's ACI gateway flags only in a lab made with an APIC (up --apic-url)", () => {
    const nm = plan.netmasters[0]!;
    assert.ok(!netmasterArgs(plan, nm).some((a) => a.startsWith('--apic')));
    const n = netmasterArgs(plan, nm, undefined, { url: 'http://127.0.0.1:9', user: 'u1', passwordFile: '/r/pw' });
    const flag = (f: string) => n[n.indexOf(f) + 1];
    assert.deepEqual([flag('--apic-url'), flag('--apic-user'), flag('--apic-password-file')], ['http://127.0.0.1:9', 'u1', '/r/pw']);
  });

  it('runs secure: each agent with its own host certificate, netmaster with TLS everywhere and VTEPs in the data subnet, never --insecure', () => {
    const pki = pkiPaths(plan);
    const flag = (args: string[], f: string) => args[args.indexOf(f) + 1];
    for (const h of plan.hosts) {
      const a = agentArgs(plan, h);
      assert.equal(flag(a, '--tls-cert'), `/r/tfx/pki/hosts/${h.name}.crt`);
      assert.equal(flag(a, '--tls-key'), `/r/tfx/pki/hosts/${h.name}.key`);
      assert.equal(flag(a, '--tls-ca'), pki.ca.cert);
      assert.ok(!a.includes('--insecure'));
    }
    const n = netmasterArgs(plan, plan.netmasters[0]!);
    assert.ok(!n.includes('--insecure'));
    assert.equal(flag(n, '--grpc-client-ca'), pki.ca.cert);
    assert.equal(flag(n, '--tls-client-ca'), pki.ca.cert);
    assert.equal(flag(n, '--tls-cert'), pki.netmaster.cert);
    assert.equal(flag(n, '--etcd-cert'), pki.etcdNetmaster.cert);
    assert.equal(flag(n, '--vtep-subnets'), plan.dataSubnet);
    assert.ok(
      flag(n, '--etcd')
        ?.split(',')
        .every((u) => u.startsWith('https://')),
    );
    assert.deepEqual(
      securityGaps({
        etcdEndpoints: flag(n, '--etcd')!.split(','),
        etcdCert: flag(n, '--etcd-cert'),
        tlsCert: flag(n, '--tls-cert'),
        tlsClientCa: flag(n, '--tls-client-ca'),
        grpcTlsCert: flag(n, '--grpc-tls-cert'),
        grpcClientCa: flag(n, '--grpc-client-ca'),
      }),
      [],
      'netmaster starts without --insecure',
    );
    assert.ok(plan.netmasters.every((m) => m.url.startsWith('https://')));
  });

  it('rewrites --network TENANT/NETWORK for podman and leaves other arguments alone', () => {
    const r = rewritePodmanNetworks([
      'run',
      '-d',
      '--network',
      'blue/web',
      '--net=red/db',
      '--name',
      'x',
      'img',
      '--',
      'sh',
      '--network',
      'a/b',
    ]);
    assert.deepEqual(r.args, [
      'run',
      '-d',
      '--network',
      'nl.blue.web',
      '--net=nl.red.db',
      '--name',
      'x',
      'img',
      '--',
      'sh',
      '--network',
      'a/b',
    ]);
    assert.deepEqual(r.networks, [
      { tenant: 'blue', network: 'web' },
      { tenant: 'red', network: 'db' },
    ]);
    assert.deepEqual(rewritePodmanNetworks(['run', '--network', 'host']).args, ['run', '--network', 'host']);
    const c = podmanConflist(plan, 'host1', 'blue', 'web');
    assert.equal(c.cniVersion, '1.0.0', 'podman 4.3 rejects 1.1.0 results');
    assert.equal(c.name, podmanNetworkName('blue', 'web'));
    assert.equal((c.plugins as Array<{ agentSocket: string }>)[0]?.agentSocket, agentPaths(plan, 'host1').cniSocket);
  });

  it("starts dockerd with every path under the host's docker dir (bound over /mnt) and no iptables or bridge", () => {
    const s = dockerdScript(plan, 'host1');
    assert.ok(s.startsWith(`mount --bind ${agentPaths(plan, 'host1').dockerDir} /mnt && mount --bind /mnt/run /run && exec dockerd `));
    for (const f of [
      '--data-root /mnt/data',
      '--exec-root /mnt/exec',
      '-H unix:///mnt/docker.sock',
      '--iptables=false',
      '--ip-masq=false',
      '--bridge=none',
    ])
      assert.ok(s.includes(f), f);
  });

  it('starts dockerd in a mount namespace pinned under its docker dir, and a restart inside that same one (live restore)', () => {
    const h = { name: 'host1', netns: 'nl-host1' };
    const nsFile = dockerMountNsFile(plan, 'host1');
    assert.equal(nsFile, `${agentPaths(plan, 'host1').dockerDir}/ns/mnt`);
    const first = dockerdNsenterArgs(plan, h, false);
    assert.deepEqual(first.slice(0, 5), ['--net=/run/netns/nl-host1', 'unshare', `--mount=${nsFile}`, '--propagation', 'private']);
    assert.equal(first.at(-1), dockerdScript(plan, 'host1'));
    const again = dockerdNsenterArgs(plan, h, true);
    assert.deepEqual(again.slice(0, 4), ['--net=/run/netns/nl-host1', `--mount=${nsFile}`, 'sh', '-c']);
    assert.match(again.at(-1) ?? '', /^exec dockerd /, 'its /mnt and /run mounts are there already');
  });
});
