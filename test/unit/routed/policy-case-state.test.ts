/**
 * The policy cases as compiler input built straight from the topology (test/support/policy-case-state.ts,
 * used by the routed nftables test, which has no netmaster) compile to exactly what each host
 * compiles from netmaster's view of the same cluster.
 */
import assert from 'node:assert/strict';
import { computeHostView } from '../../../netmaster/agent/host-view';
import { parseHostState } from '../../../netplugin/state/host-state';
import { compileContiv } from '../../../lib/policy/contiv';
import { CASES, TOPOLOGY } from '../../support/policy-cases';
import { caseState } from '../../support/policy-case-state';
import { cluster } from '../netplugin/policy-case-cluster';

describe('routed policy: the policy cases as compiler input', () => {
  for (const c of CASES)
    it(c.name, () => {
      const b = cluster(c);
      for (const host of TOPOLOGY.hosts) {
        const viaNetmaster = compileContiv(parseHostState(JSON.parse(JSON.stringify(computeHostView(b.state, host)))), host);
        const direct = compileContiv(caseState(TOPOLOGY, c), host);
        const norm = (list: typeof direct) =>
          JSON.parse(JSON.stringify([...list].sort((x, y) => (x.endpoint < y.endpoint ? -1 : 1)))) as unknown;
        assert.deepEqual(norm(direct), norm(viaNetmaster), host);
      }
    });
});
