/**
 * Endpoint labels from every CNI source (netconf args.cni.labels, Mesos NetworkInfo labels,
 * CNI_ARGS NETLOOM_LABELS), later sources winning per key, and each label checked with an error
 * that names where it came from.
 */
import { strict as assert } from 'node:assert';
import { CniError } from '../../../netplugin/cni/errors';
import { parseCniRequest, type CniEnv } from '../../../netplugin/cni/parse';

const ENV: CniEnv = { command: 'ADD', containerId: 'ctr1', netns: '/run/netns/cnix', ifName: 'eth0', path: '/usr/lib/cni' };
const CONF = { cniVersion: '1.1.0', name: 'nlnet', type: 'netloom-cni' };

function labelsOf(args: string | undefined, extra: Record<string, unknown> = {}): Record<string, string> {
  const p = parseCniRequest({ ...ENV, ...(args !== undefined ? { args } : {}) }, JSON.stringify({ ...CONF, ...extra }));
  if (p.command !== 'ADD') throw new Error('expected ADD');
  return p.req.labels;
}

function failure(args: string | undefined, extra: Record<string, unknown> = {}): CniError {
  try {
    labelsOf(args, extra);
  } catch (e) {
    if (e instanceof CniError) return e;
    throw e;
  }
  throw new Error('expected a CNI error');
}

const mesos = (labels: unknown): Record<string, unknown> => ({
  args: { 'org.apache.mesos': { network_info: { name: 'n', labels: { labels } } } },
});

describe('cni endpoint labels', () => {
  it('CNI_ARGS NETLOOM_LABELS gives k=v pairs; other CNI_ARGS keys are not labels', () => {
    assert.deepEqual(labelsOf('IgnoreUnknown=1;K8S_POD_NAME=p;NETLOOM_LABELS=app=web,app.kubernetes.io/tier=db'), {
      app: 'web',
      'app.kubernetes.io/tier': 'db',
    });
    assert.deepEqual(labelsOf('IgnoreUnknown=1;K8S_POD_NAME=p;FOO=bar'), {});
  });

  it('the netconf args.cni.labels and Mesos NetworkInfo labels; CNI_ARGS wins per key', () => {
    assert.deepEqual(labelsOf(undefined, mesos([{ key: 'role', value: 'db' }])), { role: 'db' });
    assert.deepEqual(
      labelsOf('NETLOOM_LABELS=app=api', {
        args: {
          cni: {
            labels: [
              { key: 'app', value: 'web' },
              { key: 'tier', value: 'front' },
            ],
          },
        },
      }),
      { app: 'api', tier: 'front' },
    );
  });

  it('refuses bad keys and values naming the source and key (code 7 for the netconf, 4 for CNI_ARGS)', () => {
    const e1 = failure(undefined, { args: { cni: { labels: [{ key: '-bad', value: 'x' }] } } });
    assert.equal(e1.code, 7);
    assert.match(e1.message, /args\.labels\.-bad .*label key/);
    const e2 = failure(undefined, mesos([{ key: 'ok', value: 'a,b' }]));
    assert.equal(e2.code, 7);
    assert.match(e2.message, /args\.org\.apache\.mesos\.network_info\.labels\.ok .*','/);
    const e3 = failure('NETLOOM_LABELS=app');
    assert.equal(e3.code, 4);
    assert.match(e3.message, /CNI_ARGS: NETLOOM_LABELS: "app" is not a KEY=VALUE label/);
    const e4 = failure('NETLOOM_LABELS=a b=c');
    assert.equal(e4.code, 4);
    assert.match(e4.message, /NETLOOM_LABELS\.a b: a label key/);
    const e5 = failure(undefined, mesos('x'));
    assert.equal(e5.code, 7);
    assert.match(e5.message, /network_info\.labels\.labels must be a list/);
  });

  it('refuses more than 64 labels in all', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const more = Array.from({ length: 40 }, (_, i) => `j${i}=v`).join(',');
    const e = failure(`NETLOOM_LABELS=${more}`, { args: { cni: { labels: many } } });
    assert.equal(e.code, 7);
    assert.match(e.message, /at most 64 labels/);
  });
});
