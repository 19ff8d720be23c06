/**
 * orphanedPublishers: which endpoints that publish ports belong to a container that is gone, by
 * the runtime's traces (podman: a namespace with no process; Docker: the container end back in the
 * host's namespace); endpoints publishing nothing are not looked at.
 */
import { strict as assert } from 'node:assert';
import type { EndpointRecord } from '../../../netplugin/agent/endpoint-store';
import { orphanedPublishers, type OrphanProbe } from '../../../netplugin/agent/orphan-ports';

const port = { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' as const };
const rec = (n: number, kind: 'cni' | 'cnm', publishes = true): EndpointRecord => ({
  endpointId: `ep${n}`,
  idempotencyKey: kind === 'cni' ? `nl/c${n}/eth0` : `cnm/net/e${n}`,
  kind,
  frontNetwork: kind === 'cni' ? 'nl' : 'net',
  containerId: `c${n}`,
  ifName: kind === 'cni' ? 'eth0' : `nc${n}`,
  netnsPath: kind === 'cni' ? `/run/netns/c${n}` : '',
  hostIf: `nl${n}`,
  networkKey: 't:n',
  ip: `10.0.0.${n}`,
  prefixLength: 24,
  mac: '02:00:00:00:00:01',
  gateway: '10.0.0.1',
  mtu: 1450,
  ...(publishes ? { portMappings: [{ ...port, hostPort: 8000 + n }] } : {}),
});

describe('agent orphanedPublishers', () => {
  it('podman: a namespace nobody is in; Docker: a container end back here; the rest are live', async () => {
    const asked: string[] = [];
    const probe: OrphanProbe = {
      unoccupiedNetns: async (paths) => new Set(paths.filter((p) => p === '/run/netns/c1')),
      linkHere: async (name) => {
        asked.push(name);
        return name === 'nc3';
      },
    };
    const got = await orphanedPublishers(
      [rec(1, 'cni'), rec(2, 'cni'), rec(3, 'cnm'), rec(4, 'cnm'), rec(5, 'cni', false), rec(6, 'cnm', false)],
      probe,
    );
    assert.deepEqual(
      got.map((o) => [o.rec.endpointId, o.why]),
      [
        ['ep1', 'no process is in its network namespace /run/netns/c1'],
        ['ep3', "its container end nc3 is back in the host's namespace"],
      ],
    );
    assert.deepEqual(asked, ['nc3', 'nc4'], 'only Docker endpoints that publish ports are looked at');
  });
});
