/**
 * The access controls tried from a lab host's namespace, the way an intruder on the management
 * network would (issue 13, docs/security.md): without credentials etcd, REST reads and writes and
 * the agent API are refused; with host1's certificate nothing can be done as host2; certificates
 * of netmaster and of REST users act for no host; a fake VTEP is refused (the live agent keeps its
 * own, no flow on the other host names the fake one). The legitimate paths still work: netctl,
 * the agents, traffic between containers. Lab `tatk` (2 hosts, 1 netmaster, agents); the probes
 * run inside host1's namespace (curl, etcdctl, tools/agent-probe.ts).
 */
import { strict as assert } from 'node:assert';
import { resolve } from 'node:path';
import { run, type RunResult } from '../../../lib/exec';
import { planLab } from '../../../deploy/lab/plan';
import { etcdClientTls, pkiPaths } from '../../../deploy/lab/pki';
import type { Probe, ProbeResult } from '../../../tools/agent-probe';
import { labCli, netctlCli } from '../../support/lab-cli';
import { pingEventually } from '../../support/traffic';

const LAB = 'tatk';
const lab = labCli(LAB);
const PROBE_JS = resolve(__dirname, '../../../tools/agent-probe.js');

describe('attacks from a lab host namespace are refused; the legitimate paths work (lab)', function () {
  this.timeout(90_000);
  const plan = planLab({ name: LAB, hosts: 2, etcdMembers: 1, netmasters: 1 });
  const pki = pkiPaths(plan);
  const host1 = plan.hosts[0]!;
  const nm = plan.netmasters[0]!;
  const netctl = netctlCli(nm.url);
  const etcdUrl = plan.etcd[0]!.clientUrl;
  let b = '';

  /** A command in host1's namespace (the intruder's seat). */
  const fromHost1 = (cmd: string, args: string[]): Promise<RunResult> =>
    run(cmd, args, { netns: host1.netns, allowFailure: true, timeoutMs: 20_000, env: { ...process.env, ETCDCTL_API: '3' } });

  /** HTTP status of a curl from host1 (-k: the intruder accepts any server certificate). */
  const status = async (method: string, path: string, extra: string[] = []): Promise<number> => {
    const r = await fromHost1('curl', [
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-m',
      '5',
      '-X',
      method,
      ...extra,
      `${nm.url}${path}`,
    ]);
    return Number(r.stdout.trim());
  };

  type Creds = { cert: string; key: string } | 'none' | 'plaintext';
  /** Agent API calls from host1's namespace, in one process (tools/agent-probe.ts). */
  const probes = async (list: Array<{ call: Probe['call']; host: string; creds: Creds; vtep?: string }>): Promise<ProbeResult[]> => {
    const spec: Probe[] = list.map(({ call, host, creds, vtep }) => ({
      call,
      host,
      ...(vtep !== undefined ? { vtep } : {}),
      ...(creds === 'plaintext' ? {} : { ca: pki.ca.cert }),
      ...(typeof creds === 'object' ? { cert: creds.cert, key: creds.key } : {}),
    }));
    const r = await run(process.execPath, [PROBE_JS, '--address', nm.grpcListen, JSON.stringify(spec)], {
      netns: host1.netns,
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
      timeoutMs: 60_000,
    });
    return JSON.parse(r.stdout.trim()) as ProbeResult[];
  };
  const refusedWith = (r: ProbeResult, codes: string[], what: string): void => {
    assert.ok(!r.ok && codes.includes(r.code), `${what}: ${JSON.stringify(r)}`);
  };

  before(async function () {
    this.timeout(180_000);
    await lab(['down'], true);
    await lab(['up', '--hosts', '2', '--etcd-members', '1', '--netmasters', '1']);
    await netctl(['tenant', 'create', 'blue']);
    await netctl(['net', 'create', '-t', 'blue', '-e', 'vxlan', '-s', '10.79.2.0/24', '-g', '10.79.2.254', 'vx']);
    await lab(['run', 'host1', 'a', '--tenant', 'blue', '--network', 'vx']);
    b = (await lab(['run', 'host2', 'b', '--tenant', 'blue', '--network', 'vx'])).stdout.trim().split('\t')[2] ?? '';
    assert.match(b, /^10\.79\.2\.\d+$/);
  });

  after(async function () {
    this.timeout(120_000);
    await lab(['down'], true, 120_000);
  });

  it('etcd: no read or write without a client certificate of the etcd CA (none, plaintext, a host certificate)', async () => {
    const etcdctl = (url: string, args: string[]) =>
      fromHost1('etcdctl', ['--endpoints', url, '--dial-timeout=1s', '--command-timeout=2s', ...args]);
    const h1 = pki.hosts['host1']!;
    const attempts: Array<[string, string, string[]]> = [
      ['no certificate', etcdUrl, ['--insecure-skip-tls-verify', 'get', '--prefix', '/netloom', '--keys-only']],
      ['no certificate, write', etcdUrl, ['--insecure-skip-tls-verify', 'put', '/netloom/v1/evil', 'x']],
      [
        'a host certificate (netloom CA, not etcd)',
        etcdUrl,
        ['--cacert', pki.etcdCa.cert, '--cert', h1.cert, '--key', h1.key, 'get', '--prefix', '/netloom'],
      ],
      ['plaintext', etcdUrl.replace('https:', 'http:'), ['get', '--prefix', '/netloom']],
    ];
    // each refusal takes etcdctl's timeout: try them side by side
    const results = await Promise.all(attempts.map(([, url, args]) => etcdctl(url, args)));
    attempts.forEach(([what], i) => {
      assert.notEqual(results[i]!.code, 0, `${what}: ${results[i]!.stdout.slice(0, 200)}`);
      assert.doesNotMatch(results[i]!.stdout, /\/netloom\//, `${what}: no key read`);
    });
    // the legitimate client (the lab's etcd certificate) reads, and the intruder's key is not there
    const t = etcdClientTls(plan);
    const ok = await etcdctl(etcdUrl, [
      '--cacert',
      t.ca,
      '--cert',
      t.cert,
      '--key',
      t.key,
      'get',
      '--prefix',
      '/netloom/v1/',
      '--keys-only',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\/netloom\/v1\//);
    assert.doesNotMatch(ok.stdout, /evil/);
  });

  it('REST: every read and write without credentials is 401 (GET, /metrics, watch, inspect, trace, internal); only /healthz answers', async () => {
    const calls: Array<[string, string]> = [
      ['GET', '/api/v1/tenants/'],
      ['GET', '/api/v1/networks/blue:vx/'],
      ['GET', '/api/v1/endpoints/'],
      ['GET', '/api/v1/inspect/networks/blue:vx/'],
      ['GET', '/api/v1/watch?since=0'],
      ['GET', '/metrics'],
      ['GET', '/version'],
      ['GET', '/info'],
      ['GET', '/api/v1/openapi.json'],
      ['GET', '/api/v1/consistency'],
      ['GET', '/api/v1/no-such-route/'],
      ['POST', '/api/v1/tenants/evil/'],
      ['DELETE', '/api/v1/networks/blue:vx/'],
      ['POST', '/api/v1/trace/'],
      ['POST', '/api/v1/internal/agent-query/'],
    ];
    for (const [method, path] of calls) assert.equal(await status(method, path), 401, `${method} ${path}`);
    assert.equal(await status('GET', '/api/v1/tenants/', ['-H', 'Authorization: Bearer guessed']), 401, 'a guessed token');
    const h1 = pki.hosts['host1']!;
    assert.equal(
      await status('GET', '/api/v1/tenants/', ['--cert', h1.cert, '--key', h1.key]),
      401,
      "a host's certificate has no REST role",
    );
    assert.equal(await status('GET', '/healthz'), 200, 'the probe stays open');
    // read-only reads but does not write; admin (netctl) does both
    const ro = ['--cert', pki.readOnly.cert, '--key', pki.readOnly.key];
    assert.equal(await status('GET', '/api/v1/tenants/', ro), 200);
    assert.equal(await status('GET', '/metrics', ro), 200);
    assert.equal(await status('POST', '/api/v1/tenants/evil/', [...ro, '-d', '{"tenantName":"evil"}']), 403);
    assert.equal(await status('POST', '/api/v1/internal/agent-query/', [...ro, '-d', '{}']), 403);
    const tenants = (await netctl(['tenant', 'ls', '-q'])).stdout;
    assert.doesNotMatch(tenants, /evil/, 'nothing was written');
    assert.match((await netctl(['net', 'ls', '-t', 'blue', '-q'])).stdout, /^vx$/m, 'nothing was deleted');
  });

  it("agent API: host1's certificate cannot act as host2; no certificate, plaintext, netmaster's or a REST user's certificate act as no host", async () => {
    const h1 = pki.hosts['host1']!;
    const attempts: Array<{ call: Probe['call']; host: string; creds: Creds; want: string; what: string }> = [
      ...(['register', 'watch', 'create-endpoint'] as const).map((call) => ({
        call,
        host: 'host2',
        creds: h1,
        want: 'PERMISSION_DENIED',
        what: `${call} as host2 with host1's certificate`,
      })),
      { call: 'register', host: 'host2', creds: 'none', want: 'UNAVAILABLE', what: 'no client certificate' },
      { call: 'register', host: 'host2', creds: 'plaintext', want: 'UNAVAILABLE', what: 'plaintext' },
      ...['host2', 'netmaster', 'localhost'].map((host) => ({
        call: 'register' as const,
        host,
        creds: pki.netmaster,
        want: 'PERMISSION_DENIED',
        what: `netmaster's certificate as ${host}`,
      })),
      { call: 'watch', host: 'host2', creds: pki.admin, want: 'PERMISSION_DENIED', what: "the admin's certificate as host2" },
    ];
    const results = await probes([...attempts, { call: 'watch', host: 'host1', creds: h1 }]);
    attempts.forEach((a, i) => refusedWith(results[i]!, [a.want], a.what));
    // host1 may follow its own desired state, and host2's agent is untouched
    assert.ok(results[attempts.length]?.ok, `host1 watches as host1: ${JSON.stringify(results[attempts.length])}`);
    const s = JSON.parse((await lab(['status', '-o', 'json'])).stdout) as { hosts: Array<{ agent?: { ready: boolean } }> };
    assert.ok(
      s.hosts.every((h) => h.agent?.ready),
      'both agents ready',
    );
  });

  it('a fake VTEP is refused: another VTEP for a live host (even with its own certificate), one outside the underlay; no flow names it', async () => {
    const h1 = pki.hosts['host1']!;
    const fake = host1.dataIp.replace(/\.\d+$/, '.66');
    const [other, outside] = await probes([
      { call: 'register', host: 'host1', creds: h1, vtep: fake },
      { call: 'register', host: 'host1', creds: h1, vtep: plan.rootMgmtIp },
    ]);
    // CONFLICT travels as FAILED_PRECONDITION (proto/status.ts)
    refusedWith(other!, ['FAILED_PRECONDITION'], 'another VTEP for live host1');
    refusedWith(outside!, ['PERMISSION_DENIED'], 'a VTEP outside the data subnet');
    // each refusal is counted by reason (the suite runs daemons with silent logs, so the metric is the witness)
    const metrics = await fromHost1('curl', [
      '-sk',
      '-m',
      '5',
      '--cert',
      pki.readOnly.cert,
      '--key',
      pki.readOnly.key,
      `${nm.url}/metrics`,
    ]);
    for (const reason of ['vtep-conflict', 'vtep-outside-underlay']) {
      const line = new RegExp(`^netmaster_agent_registrations_refused_total\\{[^}]*reason="${reason}"[^}]*\\} ([0-9]+)`, 'm');
      assert.ok(Number(line.exec(metrics.stdout)?.[1] ?? 0) >= 1, `a refusal counted as ${reason}`);
    }
    const flows = await lab(['exec', 'host2', '--', 'ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', 'br-int']);
    assert.ok(flows.stdout.includes(host1.dataIp), "host2's flows tunnel to host1's real VTEP");
    assert.ok(!flows.stdout.includes(fake) && !flows.stdout.includes(plan.rootMgmtIp), 'and to no fake one');
  });

  it('the legitimate paths still work: traffic across hosts, netctl, the agents', async () => {
    assert.ok(await pingEventually(`${plan.prefix}c-a`, b), 'a (host1) reaches b (host2) over VXLAN');
    const eps = JSON.parse((await netctl(['endpoint', 'ls', '-o', 'json'])).stdout) as Array<{ homingHost?: string }>;
    assert.deepEqual(eps.map((e) => e.homingHost).sort(), ['host1', 'host2']);
  });
});
