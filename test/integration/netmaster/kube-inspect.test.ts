/**
 * An endpoint's effective rules (REST inspect and `netctl endpoint inspect`, issue 12) include the
 * rules derived from Kubernetes NetworkPolicies, named after the policy they come from
 * (`k8s:NAMESPACE/NAME/ingress/0`), next to Contiv's: a real netmaster whose controller reads the
 * API stand-in (policies applied with kubectl), pod endpoints registered over the agent API as an
 * agent registers them. The named port resolves on the selected pod; deleting the policy takes its
 * rules away. Private etcd on 27600, API on 27556; names start with `kbi`.
 */
import assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import type { Endpoint__Output } from '../../../proto/gen/netloom/v1/Endpoint';
import { startTestEtcd, type EtcdFixture } from '../../support/etcd-fixture';
import { startKubeApi, type KubeApiFixture } from '../../support/kube-apiserver';
import { allowTcp80Rule } from '../../unit/netmaster/world';
import { runCli } from '../../unit/netctl/run-cli';
import { rawClient, until } from '../agent-api/support';
import type { AgentClient } from '../../../proto/gen/netloom/v1/Agent';

function rpc<Req, Res>(fn: (req: Req, cb: (e: grpc.ServiceError | null, r?: Res) => void) => void, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r as Res))));
}

interface Rule {
  id: string;
  action: string;
  peers: unknown;
  services: unknown;
}
interface Effective {
  host: string;
  ingress: { isolated: boolean; rules: Rule[] };
  egress: { isolated: boolean; rules: Rule[] };
}

const NS = 'kbi-prod';
const POLICY = [
  'apiVersion: networking.k8s.io/v1',
  'kind: NetworkPolicy',
  'metadata:',
  '  name: web',
  `  namespace: ${NS}`,
  'spec:',
  '  podSelector:',
  '    matchLabels: {app: web}',
  '  ingress:',
  '    - from:',
  '        - podSelector: {matchLabels: {app: client}}',
  '      ports:',
  '        - port: http',
  '',
].join('\n');

describe("netmaster: an endpoint's effective rules include its Kubernetes NetworkPolicies' (API stand-in, kubectl)", function () {
  this.timeout(120_000);
  let etcd: EtcdFixture | undefined;
  let api: KubeApiFixture | undefined;
  let nm: RunningNetmaster | undefined;
  let client: AgentClient | undefined;
  const logger = createLogger('kb-inspect-test', { level: process.env.NETLOOM_LOG_LEVEL ?? 'silent' });

  const effective = async (id: string): Promise<Effective | undefined> => {
    const res = await fetch(`${nm!.url}/api/v1/inspect/endpoints/${id}/`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { Oper: { effectiveRules?: Effective } }).Oper.effectiveRules;
  };

  before(async () => {
    etcd = await startTestEtcd('kb-inspect', 27600);
    api = await startKubeApi({ name: 'kb-inspect', etcdEndpoint: etcd.endpoint, port: 27556, bookmarkIntervalSeconds: 1 });
    nm = await startNetmaster({
      etcdEndpoints: [etcd.endpoint],
      logger,
      agent: {
        grpcListen: '127.0.0.1:0',
        agentLeaseTtlSeconds: 10,
        deadHostGraceMs: 600_000,
        leaderLeaseTtlSeconds: 10,
        replicaId: 'kbi-r0',
        kubeconfig: api.kubeconfig,
      },
    });
    client = rawClient(nm.agent!.server.address);
    const svc = nm.service;
    await svc.upsert('tenant', { tenantName: 'kbi' });
    await svc.upsert('network', { tenantName: 'kbi', networkName: 'pods', subnet: '10.93.0.0/24', gateway: '10.93.0.1', encap: 'vxlan' });
    // a Contiv policy on the pods' group too: both kinds of rules in one inspect
    await svc.upsert('policy', { tenantName: 'kbi', policyName: 'pw' });
    await svc.upsert('rule', allowTcp80Rule('kbi', 'pw', 'r1'));
    await svc.upsert('endpointGroup', { tenantName: 'kbi', groupName: 'web', networkName: 'pods', policies: ['pw'] });
    for (const [host, vtepIp] of [
      ['kbi-h1', '192.168.93.1'],
      ['kbi-h2', '192.168.93.2'],
    ] as const)
      await rpc(client.register.bind(client), { host, vtepIp, mgmtIp: '', capabilities: ['vxlan'], agentVersion: 't' });
  });

  after(async () => {
    client?.close();
    await nm?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await etcd?.stop();
  });

  it('shows k8s:NAMESPACE/NAME rules with their peers and resolved named port beside the Contiv rule; gone with the policy', async () => {
    const pod = (host: string, name: string, app: string, group?: string) =>
      rpc<object, Endpoint__Output>(client!.createEndpoint.bind(client), {
        host,
        tenant: 'kbi',
        network: 'pods',
        ...(group ? { group } : {}),
        containerId: `kbi-${name}`,
        idempotencyKey: `kbi-${name}`,
        labels: { app },
        pod: { namespace: NS, name, uid: `u-${name}`, namedPorts: [{ name: 'http', protocol: 'TCP', port: 8080 }] },
      });
    const web = await pod('kbi-h1', 'web-0', 'web', 'web');
    const cli = await pod('kbi-h2', 'client-0', 'client');

    await api!.kubectl(['create', 'namespace', NS]);
    await api!.kubectl(['apply', '-f', '-'], { input: POLICY });
    const eff = await until(
      "the NetworkPolicy in the endpoint's effective rules",
      async () => {
        const e = await effective(web.id);
        return e?.ingress.rules.some((r) => r.id.startsWith('k8s:')) ? e : undefined;
      },
      30_000,
    );
    assert.equal(eff.host, 'kbi-h1');
    assert.equal(eff.ingress.isolated, true);
    const k8s = eff.ingress.rules.filter((r) => r.id.startsWith('k8s:'));
    assert.deepEqual(
      k8s.map((r) => [r.id, r.action]),
      [[`k8s:${NS}/web/ingress/0`, 'allow']],
    );
    // the peer is client-0's address, the named port http resolved on web-0 to tcp/8080
    assert.match(JSON.stringify(k8s[0]!.peers), new RegExp(cli.ip.replace(/\./g, '\\.')));
    assert.match(JSON.stringify(k8s[0]!.services), /8080/);
    assert.ok(
      eff.ingress.rules.some((r) => r.id === 'kbi:pw/r1'),
      `the Contiv rule is there too: ${eff.ingress.rules.map((r) => r.id).join(', ')}`,
    );
    assert.equal(eff.egress.rules.filter((r) => r.id.startsWith('k8s:')).length, 0, 'the policy has no egress');

    const table = await runCli(['--netmaster', nm!.url, 'endpoint', 'inspect', web.id, '-o', 'table']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`\\ningress .*tcp/8080 +k8s:${NS}/web/ingress/0\\n`));

    await api!.kubectl(['delete', 'networkpolicy', '-n', NS, 'web']);
    const after = await until(
      'the NetworkPolicy gone from the effective rules',
      async () => {
        const e = await effective(web.id);
        return e && !e.ingress.rules.some((r) => r.id.startsWith('k8s:')) ? e : undefined;
      },
      30_000,
    );
    assert.deepEqual(
      after.ingress.rules.map((r) => r.id),
      ['kbi:pw/r1'],
    );
  });
});
