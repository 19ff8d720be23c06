/** The Warning Events for what the views cannot realize of Services (netmaster/kube/service-problems.ts). */
import { strict as assert } from 'node:assert';
import type { KubernetesObject } from '@kubernetes/client-node';
import { waitFor } from '../../../lib/clock';
import { ServiceProblemReporter } from '../../../netmaster/kube/service-problems';

describe('Kubernetes Services: problems reported as Events', () => {
  it('warns once per change of a Service problems, after the cluster changed; nothing when there are none', async () => {
    const problems = new Map<string, string[]>([['x:web', ['endpoint 10.1.0.9: no netloom endpoint has this address']]]);
    let notify: () => void = () => undefined;
    const warned: Array<[string, string, string]> = [];
    const web: KubernetesObject = { kind: 'Service', metadata: { namespace: 'x', name: 'web' } };
    const ok: KubernetesObject = { kind: 'Service', metadata: { namespace: 'x', name: 'ok' } };
    const r = new ServiceProblemReporter({
      source: {
        subscribe: (cb) => {
          notify = cb;
          return () => (notify = () => undefined);
        },
        problemsOf: (k) => problems.get(k) ?? [],
      },
      services: () =>
        new Map([
          ['x/web', web],
          ['x/ok', ok],
        ]),
      warn: async (obj, reason, message) => {
        warned.push([obj.metadata?.name ?? '', reason, message]);
      },
      delayMs: 1,
    });
    try {
      notify();
      await waitFor('the first Event', () => warned.length === 1, { timeoutMs: 2000, intervalMs: 5 });
      assert.deepEqual(warned[0], [
        'web',
        'NotRealized',
        'netloom cannot realize all of this Service: endpoint 10.1.0.9: no netloom endpoint has this address',
      ]);
      notify();
      problems.set('x:web', []);
      notify();
      problems.set('x:web', ['endpoint 10.1.0.8: no netloom endpoint has this address']);
      notify();
      await waitFor('the Event of the new problem', () => warned.length === 2, { timeoutMs: 2000, intervalMs: 5 });
      assert.match(warned[1]![2], /10\.1\.0\.8/);
      assert.ok(
        warned.every((w) => w[0] === 'web'),
        'a Service without problems gets none',
      );
    } finally {
      r.stop();
    }
  });
});
