/**
 * Contiv's policy semantics, table-driven: each case is a cluster (groups on several hosts, their
 * policies and rules) and the expected verdict of packets between endpoints, decided by the
 * compiled policy of the source (egress) and of the destination (ingress) as each one's own host
 * computes it from its desired state (netmaster's view, through the agent's own checks).
 */
import assert from 'node:assert/strict';
import type { Protocol } from '../../../lib/policy/model';
import type { ClusterBuilder } from '../agent-api/fixtures';
import { CASES, policyOf, reference, withRules, world } from './contiv-policy-cases';

function verdict(b: ClusterBuilder, from: string, to: string, protocol: Protocol, port?: number): string {
  return reference(b, from, to, protocol, port).verdict;
}

describe('netplugin policy: Contiv semantics (compiled from the desired state)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const b = withRules(world(), c.rules);
      for (const [from, to, proto, port, want] of c.expect)
        assert.equal(verdict(b, from, to, proto, port), want, `${from} -> ${to} ${String(proto)}${port !== undefined ? `/${port}` : ''}`);
    });
  }

  it('a host carries the networks its rules name, so a network rule resolves to its subnet', () => {
    const b = world().rule('t1', 'pw', 'o', {
      direction: 'out',
      action: 'deny',
      toNetwork: 'app',
      protocol: '',
      port: 0,
      fromEndpointGroup: '',
    });
    const p = policyOf(b, 'web');
    assert.deepEqual(
      p?.egress.rules.map((r) => [r.id, r.peers.include]),
      [['t1:pw/o', ['10.2.0.0/24']]],
    );
  });

  it('an endpoint without a group has no policy in either direction', () => {
    const p = policyOf(world().rule('t1', 'pw', 'x', { action: 'deny' }), 'nog');
    assert.deepEqual([p?.ingress.rules.length, p?.egress.rules.length, p?.ingress.isolated], [0, 0, false]);
  });
});
