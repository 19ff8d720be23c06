/**
 * Named ports that resolve on no pod (netmaster/kube/named-ports.ts): ingress ports are looked up
 * on the pods the policy selects, egress ports on the rule's peers (pod and namespace selectors,
 * never an ipBlock), by name and protocol.
 */
import { strict as assert } from 'node:assert';
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { unresolvedNamedPorts, unresolvedText } from '../../../netmaster/kube/named-ports';

const pod = (ns: string, name: string, labels: Record<string, string>, ports: Array<[string, number, string?]>): V1Pod => ({
  metadata: { namespace: ns, name, labels },
  spec: {
    containers: [
      { name: 'c', ports: ports.map(([n, p, proto]) => ({ name: n, containerPort: p, ...(proto ? { protocol: proto } : {}) })) },
    ],
  },
});
const ns = (name: string, labels: Record<string, string> = {}): V1Namespace => ({ metadata: { name, labels } });

const PODS = [
  pod('x', 'web', { app: 'web' }, [
    ['http', 80],
    ['dns', 53, 'UDP'],
  ]),
  pod('x', 'db', { app: 'db' }, [['metrics', 9100]]),
  pod('y', 'cache', { app: 'cache' }, [['redis', 6379]]),
];
const NAMESPACES = [ns('x'), ns('y', { team: 'blue' })];

const texts = (np: V1NetworkPolicy) => unresolvedNamedPorts(np, PODS, NAMESPACES).map(unresolvedText);

describe('kube named ports: which resolve on no pod', () => {
  it('ingress: on the selected pods only, by name and protocol', () => {
    const np: V1NetworkPolicy = {
      metadata: { namespace: 'x', name: 'p' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ ports: [{ port: 'http' }, { port: 'metrics' }, { port: 'dns', protocol: 'UDP' }, { port: 'dns' }, { port: 8080 }] }],
      },
    };
    // metrics is on db (not selected); dns is UDP on web, so dns/TCP resolves nowhere
    assert.deepEqual(texts(np), ['metrics/TCP (ingress rule 0)', 'dns/TCP (ingress rule 0)']);
  });

  it('egress: on the peers, a namespaceSelector reaching other namespaces; an ipBlock names no pod', () => {
    const np: V1NetworkPolicy = {
      metadata: { namespace: 'x', name: 'p' },
      spec: {
        podSelector: {},
        egress: [
          { to: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }], ports: [{ port: 'redis' }, { port: 'http' }] },
          { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 'http' }] },
          { ports: [{ port: 'metrics' }] }, // no peers: every pod
        ],
      },
    };
    assert.deepEqual(texts(np), ['http/TCP (egress rule 0)', 'http/TCP (egress rule 1)']);
  });

  it('a policy whose selector matches no pod: every named port is unresolved; numeric ports never are', () => {
    const np: V1NetworkPolicy = {
      metadata: { namespace: 'x', name: 'p' },
      spec: { podSelector: { matchLabels: { app: 'none' } }, ingress: [{ ports: [{ port: 'http' }, { port: 80 }] }] },
    };
    assert.deepEqual(texts(np), ['http/TCP (ingress rule 0)']);
  });
});
