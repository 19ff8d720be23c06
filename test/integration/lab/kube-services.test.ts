/**
 * Issue 19, Kubernetes Services in the cluster lab (lab `kesvc`: 3 hosts, `up --kube`: the API
 * stand-in with its EndpointSlice controller, netmaster's controller and the agents reading it,
 * containerd and a kubelet stand-in per host), driven as a cluster admin would with kubectl 1.20
 * and real YAML:
 * - three agnhost pods pinned one per host (`spec.nodeName`) answering with their name, one of
 *   them on another port under the same port name, a ClusterIP Service selecting them with a
 *   named targetPort, and a client pod: the client's connections to the cluster IP spread over
 *   all three pods;
 * - `kubectl delete pod` of one: its EndpointSlice loses it, and new connections avoid it within
 *   a bounded wait; a new pod with the Service's labels comes into rotation.
 * - NodePort, externalTrafficPolicy Cluster (the default): from the tor, each host's address at the
 *   node port spreads connections over the pods of all three hosts; a provider's host sees a
 *   forwarded connection coming from the forwarding host (SNAT, as kube-proxy's), its conntrack says.
 * - NodePort, externalTrafficPolicy Local: only the host with a provider answers, and its
 *   connection keeps the tor's address; the other hosts drop (the tor's connections time out).
 * - NodePort of a namespace in a tenant of its own whose pods are on host1 and host2 only: host3,
 *   which has nothing of that tenant, answers the node port too (kube-proxy does on every node),
 *   TCP and UDP, forwarding to the pods' hosts (which see host3's address); with Local it drops.
 */
import { strict as assert } from 'node:assert';
import { waitFor } from '../../../lib/clock';
import { run } from '../../../lib/exec';
import { CriClient } from '../../../deploy/lab/cri/client';
import { POD_NAMESPACE_LABEL, POD_NAME_LABEL } from '../../../deploy/lab/cri/kubelet';
import { ensureLabImages } from '../../../deploy/lab/cri/images';
import { KubeClusterLab } from '../../support/kube-cluster-lab';
import { yamlStream } from '../../support/netpol-manifests';
import { netctlCli } from '../../support/lab-cli';

const LAB = 'kesvc';
const cluster = new KubeClusterLab(LAB, 'kube-services');
const { plan } = cluster;
const log = (msg: string) => cluster.log(msg);
const NS = 'ks-svc';
const SERVICE = 'hostnames';
/** connections per probe round */
const ROUND = 30;
const netctl = netctlCli(plan.netmasters[0]!.url);

const kubectl = (args: string[], input?: string, allowFailure = false): Promise<string> => cluster.kubectl(args, input, allowFailure);

/** An agnhost pod on `host` serving its name on `port`, declared as the container ports `http` (TCP) and `echo` (UDP). */
function serverPod(name: string, host: string, port: number, namespace = NS, app = SERVICE): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app } },
    spec: {
      nodeName: host,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'agnhost',
          image: 'netloom.local/agnhost:1.0',
          args: ['serve', '--port', String(port)],
          ports: [
            { name: 'http', containerPort: port, protocol: 'TCP' },
            { name: 'echo', containerPort: port, protocol: 'UDP' },
          ],
        },
      ],
    },
  };
}

const cri = (host: string): CriClient => cluster.cri(host);

/** Runs `cmd` in the running container of pod NS/`pod` on `host`; its output. */
async function exec(pod: string, host: string, cmd: string[]): Promise<string> {
  const cs = await cri(host).listContainers({
    labelSelector: { [POD_NAMESPACE_LABEL]: NS, [POD_NAME_LABEL]: pod },
    state: { state: 'CONTAINER_RUNNING' },
  });
  if (!cs[0]) throw new Error(`no running container of ${NS}/${pod} on ${host}`);
  const r = await cri(host).execSync(cs[0].id, cmd, 120);
  if (r.exitCode !== 0) throw new Error(`exec in ${NS}/${pod}: ${cmd.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/**
 * `n` TCP connections from the client pod to `target`, one after another, each a new connection;
 * how many each answering pod took ('-' for a connection nobody answered).
 */
async function spread(target: string, n = ROUND): Promise<Map<string, number>> {
  const script = `i=0; while [ $i -lt ${n} ]; do /agnhost connect ${target} --timeout 1s 2>/dev/null || echo -; i=$((i+1)); done`;
  const out = await exec('client', 'host1', ['sh', '-c', script]);
  const counts = new Map<string, number>();
  for (const who of out.split('\n').filter((l) => l !== '')) counts.set(who, (counts.get(who) ?? 0) + 1);
  return counts;
}
const show = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}:${v}`).join(' ');

interface Slice {
  endpoints?: Array<{ addresses: string[]; targetRef?: { name: string }; conditions?: { ready?: boolean } }>;
}
/** The pods the Service's EndpointSlices list as ready, sorted. */
async function slicePods(service = SERVICE, namespace = NS): Promise<string[]> {
  const slices = JSON.parse(
    await kubectl(['get', 'endpointslices', '-n', namespace, '-l', `kubernetes.io/service-name=${service}`, '-o', 'json']),
  ) as { items: Slice[] };
  return slices.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false)
    .map((e) => e.targetRef?.name ?? '')
    .sort();
}

describe('Kubernetes Services in the cluster lab: kubectl, kubelet stand-ins, containerd, netloom (3 hosts)', function () {
  this.timeout(300_000);
  let clusterIP = '';
  let target = '';

  cluster.hooks();

  it('a ClusterIP Service with a named targetPort over 3 pods on 3 hosts: a client pod’s connections spread over all of them', async () => {
    const manifests = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      serverPod('s1', 'host1', 8080),
      serverPod('s2', 'host2', 8080),
      // the named targetPort resolves per pod: this one serves elsewhere
      serverPod('s3', 'host3', 9090),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: SERVICE, namespace: NS },
        spec: { selector: { app: SERVICE }, ports: [{ name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' }] },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace: NS, labels: { app: 'client' } },
        spec: { nodeName: 'host1', containers: [{ name: 'agnhost', image: 'netloom.local/agnhost:1.0', args: ['pause'] }] },
      },
    ];
    await kubectl(['apply', '-f', '-'], yamlStream(manifests));
    await kubectl(['wait', '--for=condition=Ready', 'pod/s1', 'pod/s2', 'pod/s3', 'pod/client', '-n', NS, '--timeout=120s']);
    clusterIP = (await kubectl(['get', 'service', SERVICE, '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    assert.match(clusterIP, /^10\.96\./, 'the Service has a cluster IP');
    target = `${clusterIP}:80`;
    await waitFor('the EndpointSlice to list the 3 pods', async () => (await slicePods()).join() === 's1,s2,s3', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    // the agents get the Service asynchronously (netmaster's controller, then the views)
    let last = new Map<string, number>();
    await waitFor(
      'connections to the cluster IP to reach all 3 pods',
      async () => {
        last = await spread(target);
        log(`to ${target}: ${show(last)}`);
        return ['s1', 's2', 's3'].every((p) => (last.get(p) ?? 0) > 0) && !last.has('-');
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // then a bigger sample: every connection answered, each pod a fair share
    const counts = await spread(target, 90);
    log(`90 connections: ${show(counts)}`);
    assert.equal(counts.get('-') ?? 0, 0, 'every connection answered');
    assert.deepEqual([...counts.keys()].sort(), ['s1', 's2', 's3']);
    for (const p of ['s1', 's2', 's3']) assert.ok(counts.get(p)! >= 10, `${p} took ${counts.get(p)} of 90`);
  });

  it('kubectl delete pod: the EndpointSlice drops it and new connections avoid it', async () => {
    assert.ok(target, 'the Service of the first test');
    await kubectl(['delete', 'pod', 's2', '-n', NS]);
    await waitFor('the EndpointSlice to drop s2', async () => (await slicePods()).join() === 's1,s3', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    const t0 = Date.now();
    await waitFor(
      'a round of connections to reach only s1 and s3',
      async () => {
        const c = await spread(target);
        log(`after the delete: ${show(c)}`);
        return [...c.keys()].sort().join() === 's1,s3';
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    log(`new connections avoid s2 ${Date.now() - t0} ms after its slice changed`);
    const counts = await spread(target, 60);
    log(`60 connections: ${show(counts)}`);
    assert.deepEqual([...counts.keys()].sort(), ['s1', 's3'], 'every connection answered by s1 or s3');
  });

  it('a new pod with the Service’s labels comes into rotation', async () => {
    assert.ok(target, 'the Service of the first test');
    await kubectl(['apply', '-f', '-'], yamlStream([serverPod('s4', 'host2', 8080)]));
    await kubectl(['wait', '--for=condition=Ready', 'pod/s4', '-n', NS, '--timeout=120s']);
    await waitFor('the EndpointSlice to list s4', async () => (await slicePods()).join() === 's1,s3,s4', {
      timeoutMs: 30_000,
      intervalMs: 300,
    });
    await waitFor(
      'connections to reach s4 too',
      async () => {
        const c = await spread(target);
        log(`with s4: ${show(c)}`);
        return [...c.keys()].sort().join() === 's1,s3,s4';
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const counts = await spread(target, 90);
    log(`90 connections: ${show(counts)}`);
    assert.equal(counts.get('-') ?? 0, 0, 'every connection answered');
    for (const p of ['s1', 's3', 's4']) assert.ok((counts.get(p) ?? 0) >= 10, `${p} took ${counts.get(p) ?? 0} of 90`);
  });

  describe('NodePort Services from outside the cluster (the tor)', () => {
    let nlpod = '';
    const hosts = plan.hosts.map((h) => ({ name: h.name, netns: h.netns, ip: h.dataIp }));
    const torIp = plan.torDataIp;

    /** `n` connections (each its own socket) from the tor to ip:port, one after another; how many each answering pod took ('-': no answer). */
    async function fromTor(ip: string, port: number, n = ROUND, protocol: 'tcp' | 'udp' = 'tcp'): Promise<Map<string, number>> {
      const script = `i=0; while [ $i -lt ${n} ]; do ${nlpod} connect ${ip}:${port} --protocol ${protocol} --timeout 1s 2>/dev/null || echo -; i=$((i+1)); done`;
      const r = await run('sh', ['-c', script], { netns: plan.torNetns, timeoutMs: 120_000 });
      const counts = new Map<string, number>();
      for (const who of r.stdout.split('\n').filter((l) => l !== '')) counts.set(who, (counts.get(who) ?? 0) + 1);
      return counts;
    }

    /** The conntrack entries of `netns` for TCP connections to `port` (/proc/net/nf_conntrack): original and reply src, dst. */
    async function conntrack(
      netns: string,
      port: number,
    ): Promise<Array<{ src: string; dst: string; replySrc: string; replyDst: string }>> {
      const r = await run('cat', ['/proc/net/nf_conntrack'], { netns });
      return r.stdout
        .split('\n')
        .filter((l) => l.includes(' tcp ') && l.includes(`dport=${port} `))
        .map((l) => {
          const [src, replySrc] = [...l.matchAll(/src=(\S+)/g)].map((m) => m[1]!);
          const [dst, replyDst] = [...l.matchAll(/dst=(\S+)/g)].map((m) => m[1]!);
          return { src: src!, dst: dst!, replySrc: replySrc!, replyDst: replyDst! };
        });
    }

    async function podIp(name: string): Promise<string> {
      return (await kubectl(['get', 'pod', name, '-n', NS, '-o', 'jsonpath={.status.podIP}'])).trim();
    }

    async function nodePortOf(service: string, index = 0, namespace = NS): Promise<number> {
      return Number(await kubectl(['get', 'service', service, '-n', namespace, '-o', `jsonpath={.spec.ports[${index}].nodePort}`]));
    }

    before(async () => {
      nlpod = (await ensureLabImages()).nlpod;
    });

    it('externalTrafficPolicy Cluster (the default): every host’s node port spreads over the pods of all hosts; forwarded connections are SNATed to the forwarding host', async () => {
      await kubectl(
        ['apply', '-f', '-'],
        yamlStream([
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'hostnames-np', namespace: NS },
            spec: {
              type: 'NodePort',
              selector: { app: SERVICE },
              ports: [
                { name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' },
                { name: 'echo', protocol: 'UDP', port: 53, targetPort: 'echo' },
              ],
            },
          },
        ]),
      );
      const port = await nodePortOf('hostnames-np');
      const udpPort = await nodePortOf('hostnames-np', 1);
      assert.ok(port >= 30000 && port <= 32767, `a node port: ${port}`);
      const pods = (await slicePods()).join();
      assert.equal(pods, 's1,s3,s4', 'the pods of the tests before: one per host');
      for (const h of hosts) {
        let last = new Map<string, number>();
        await waitFor(
          `connections from the tor to ${h.name}'s node port to reach the pods of all hosts`,
          async () => {
            last = await fromTor(h.ip, port);
            log(`tor -> ${h.name} ${h.ip}:${port}: ${show(last)}`);
            return [...last.keys()].sort().join() === pods;
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        const counts = await fromTor(h.ip, port, 60);
        log(`tor -> ${h.name}, 60 connections: ${show(counts)}`);
        assert.equal(counts.get('-') ?? 0, 0, `every connection to ${h.name} answered`);
        for (const p of ['s1', 's3', 's4']) assert.ok((counts.get(p) ?? 0) >= 5, `${p} took ${counts.get(p) ?? 0} of 60 through ${h.name}`);
        // UDP the same way: each datagram exchange from a new socket is a new connection
        const udp: Map<string, number> = await waitFor(
          `UDP from the tor to ${h.name}'s node port to reach the pods of all hosts`,
          async (): Promise<Map<string, number> | undefined> => {
            const c: Map<string, number> = await fromTor(h.ip, udpPort, ROUND, 'udp');
            log(`tor -> ${h.name} ${h.ip}:${udpPort}/udp: ${show(c)}`);
            return [...c.keys()].sort().join() === pods ? c : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
        assert.equal(udp.get('-') ?? 0, 0);
      }
      // host2 (s4's host) served connections host1 forwarded: they come from host1's address (SNAT)
      // and go to s4; those the tor made to host2 itself keep the tor's address
      const s4 = await podIp('s4');
      const host2 = await conntrack(hosts[1]!.netns, port);
      assert.ok(
        host2.some((c) => c.src === hosts[0]!.ip && c.dst === hosts[1]!.ip && c.replySrc === s4),
        `host2 has a connection from host1 to s4: ${JSON.stringify(host2.slice(0, 5))}`,
      );
      assert.ok(
        host2.some((c) => c.src === torIp && c.replySrc === s4 && c.replyDst === torIp),
        'and one from the tor to s4 itself',
      );
    });

    it('externalTrafficPolicy Local: only the host with a provider answers, keeping the client’s address; the others drop', async () => {
      await kubectl(['label', 'pod', 's1', '-n', NS, 'solo=yes', '--overwrite']);
      await kubectl(
        ['apply', '-f', '-'],
        yamlStream([
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: 'solo', namespace: NS },
            spec: {
              type: 'NodePort',
              externalTrafficPolicy: 'Local',
              selector: { solo: 'yes' },
              ports: [{ name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' }],
            },
          },
        ]),
      );
      const port = await nodePortOf('solo');
      await waitFor(
        "the tor's connections to host1's node port to reach s1",
        async () => {
          const c = await fromTor(hosts[0]!.ip, port, 5);
          return [...c.keys()].join() === 's1';
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const counts = await fromTor(hosts[0]!.ip, port, 20);
      assert.deepEqual([...counts], [['s1', 20]], 'every connection to host1 reaches s1');
      const s1 = await podIp('s1');
      const host1 = await conntrack(hosts[0]!.netns, port);
      assert.ok(
        host1.length > 0 && host1.every((c) => c.src === torIp && c.replySrc === s1 && c.replyDst === torIp),
        `s1 sees the tor's address: ${JSON.stringify(host1.slice(0, 5))}`,
      );
      for (const h of hosts.slice(1)) {
        const c = await fromTor(h.ip, port, 5);
        log(`tor -> ${h.name} (no provider) ${h.ip}:${port}: ${show(c)}`);
        assert.deepEqual([...c], [['-', 5]], `${h.name} has no provider of solo: no answer`);
        // dropped, not refused: the kernel would answer a reset to a port nothing serves
        const one = await run(nlpod, ['connect', `${h.ip}:${port}`, '--timeout', '1s'], { netns: plan.torNetns, allowFailure: true });
        assert.match(one.stderr, /i\/o timeout/, `${h.name} drops: ${one.stderr}`);
      }
    });

    it('a host with no pod of the Service’s tenant answers its node port, TCP and UDP, through the pods’ hosts (Cluster); it drops with Local', async () => {
      // a namespace in a tenant of its own, with pods on host1 and host2 only
      const ns = 'ks-far';
      await netctl(['tenant', 'create', 'ksfar']);
      await netctl(['net', 'create', '-t', 'ksfar', '-e', 'vxlan', '-s', '10.98.41.0/24', '-g', '10.98.41.254', 'far']);
      const service = (name: string, local: boolean, ports: Array<Record<string, unknown>>) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns },
        spec: { type: 'NodePort', ...(local ? { externalTrafficPolicy: 'Local' } : {}), selector: { app: 'far' }, ports },
      });
      const web = { name: 'web', protocol: 'TCP', port: 80, targetPort: 'http' };
      await kubectl(
        ['apply', '-f', '-'],
        yamlStream([
          {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: ns, annotations: { 'netloom.io/tenant': 'ksfar', 'netloom.io/network': 'far' } },
          },
          serverPod('f1', 'host1', 8080, ns, 'far'),
          serverPod('f2', 'host2', 8080, ns, 'far'),
          service('far', false, [web, { name: 'echo', protocol: 'UDP', port: 53, targetPort: 'echo' }]),
          service('far-local', true, [web]),
        ]),
      );
      await kubectl(['wait', '--for=condition=Ready', 'pod/f1', 'pod/f2', '-n', ns, '--timeout=120s']);
      await waitFor('the EndpointSlice to list f1 and f2', async () => (await slicePods('far', ns)).join() === 'f1,f2', {
        timeoutMs: 30_000,
        intervalMs: 300,
      });
      const f1 = (await kubectl(['get', 'pod', 'f1', '-n', ns, '-o', 'jsonpath={.status.podIP}'])).trim();
      assert.match(f1, /^10\.98\.41\./, 'f1 is in the tenant ksfar');
      const eps = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Array<{ network: string; homingHost: string }>;
      assert.deepEqual([...new Set(eps.filter((e) => e.network === 'ksfar:far').map((e) => e.homingHost))].sort(), ['host1', 'host2']);
      const [port, udpPort, localPort] = [
        await nodePortOf('far', 0, ns),
        await nodePortOf('far', 1, ns),
        await nodePortOf('far-local', 0, ns),
      ];
      const host3 = hosts[2]!;
      for (const [proto, p] of [
        ['tcp', port],
        ['udp', udpPort],
      ] as const) {
        await waitFor(
          `${proto} connections from the tor to host3's node port to reach f1 and f2`,
          async () => {
            const c = await fromTor(host3.ip, p, ROUND, proto);
            log(`tor -> host3 ${host3.ip}:${p}/${proto}: ${show(c)}`);
            return [...c.keys()].sort().join() === 'f1,f2';
          },
          { timeoutMs: 60_000, intervalMs: 500 },
        );
        const counts = await fromTor(host3.ip, p, 40, proto);
        log(`tor -> host3, 40 ${proto} connections: ${show(counts)}`);
        assert.equal(counts.get('-') ?? 0, 0, `every ${proto} connection to host3 answered`);
        for (const pod of ['f1', 'f2']) assert.ok((counts.get(pod) ?? 0) >= 5, `${pod} took ${counts.get(pod) ?? 0} of 40 through host3`);
      }
      // host3 sent them on to the pods' hosts; host1 sees them from host3's address (SNAT), going to f1
      const forwarded = await conntrack(host3.netns, port);
      assert.ok(
        forwarded.some((c) => c.src === torIp && c.dst === host3.ip && c.replySrc === hosts[0]!.ip && c.replyDst === host3.ip),
        `host3 forwards to host1: ${JSON.stringify(forwarded.slice(0, 5))}`,
      );
      const host1 = await conntrack(hosts[0]!.netns, port);
      assert.ok(
        host1.some((c) => c.src === host3.ip && c.replySrc === f1),
        `host1 serves host3's forward with f1: ${JSON.stringify(host1.slice(0, 5))}`,
      );
      // Local: host1 answers (its pod), host3 drops
      await waitFor(
        "the tor's connections to host1's Local node port to reach f1",
        async () => [...(await fromTor(hosts[0]!.ip, localPort, 5)).keys()].join() === 'f1',
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const dropped = await fromTor(host3.ip, localPort, 5);
      log(`tor -> host3 ${host3.ip}:${localPort} (Local, no pod): ${show(dropped)}`);
      assert.deepEqual([...dropped], [['-', 5]], 'host3 has no pod of far-local: no answer');
      const one = await run(nlpod, ['connect', `${host3.ip}:${localPort}`, '--timeout', '1s'], {
        netns: plan.torNetns,
        allowFailure: true,
      });
      assert.match(one.stderr, /i\/o timeout/, `host3 drops: ${one.stderr}`);
    });
  });
});
