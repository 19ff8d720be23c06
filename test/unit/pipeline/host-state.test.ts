/**
 * Host state checks: the shape (parseHostState / parseLocalFacts) and the cross-object rules
 * (pipelineView), each failure a NetloomError naming the bad field.
 */
import { strict as assert } from 'node:assert';
import { parseHostState, parseLocalFacts } from '../../../netplugin/state/host-state';
import type { HostState } from '../../../netplugin/state/host-state';
import { pipelineView } from '../../../netplugin/pipeline/input';
import { checkedPipeline } from './checked-pipeline';
import { isNetloomError } from '../../../lib/errors';
import { clusterState, hostInput, spanFor } from './fixture';
import protobuf from 'protobufjs';
import { agentProtoPath } from '../../../proto/loader';
import type { HostState__Output } from '../../../proto/gen/netloom/v1/HostState';

function rejects(fn: () => unknown, field: RegExp, code = 'INVALID_ARGUMENT'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isNetloomError(e), `a NetloomError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.field ?? '', field, `field of: ${e.message}`);
    return true;
  });
}

function raw(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(spanFor('h1', clusterState()))) as Record<string, unknown>;
}

function mutate(f: (s: HostState) => void): HostState {
  const s = JSON.parse(JSON.stringify(clusterState())) as HostState;
  f(s);
  return s;
}

describe('host state: shape', () => {
  it('accepts what proto-loader gives, filling proto3 defaults (missing fields, null messages, 64-bit strings)', () => {
    const s = parseHostState({
      global: null,
      tenants: [{ name: 'blue', ctZone: 1, vrfId: 1 }],
      networks: [
        {
          key: 'blue:web',
          tenant: 'blue',
          name: 'web',
          encap: 'vxlan',
          pktTag: 5001,
          networkId: 1,
          subnet: '10.1.1.0/24',
          gateway: '10.1.1.1',
        },
      ],
      profiles: [{ key: 'blue:p', bandwidthKbps: '10000', burstKb: 64 }],
    });
    assert.equal(s.global.fwdMode, 'bridge');
    assert.equal(s.global.arpMode, 'proxy');
    assert.equal(s.networks[0]!.gatewayMac, '');
    assert.equal(s.profiles[0]!.bandwidthKbps, 10000);
    assert.deepEqual(s.endpoints, []);
  });

  it('accepts a HostState that went over the wire with the agent proto and the loader options', () => {
    const type = protobuf.loadSync(agentProtoPath()).lookupType('netloom.v1.HostState');
    const sent = clusterState({ fwdMode: 'routing', arpMode: 'flood' });
    const bytes = type.encode(type.fromObject(sent)).finish();
    const received = type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true }) as HostState__Output;
    assert.equal(typeof received.endpoints[0]!.revision, 'string', 'int64 arrives as a string');
    assert.equal(received.bgp, null, 'an unset message arrives as null');
    const parsed = parseHostState(received);
    assert.deepEqual(parsed, sent);
  });

  it('rejects malformed values, naming the field', () => {
    const bad = (f: (r: Record<string, unknown>) => void) => {
      const r = raw();
      f(r);
      return () => parseHostState(r);
    };
    const eps = (r: Record<string, unknown>) => r.endpoints as Record<string, unknown>[];
    const nets = (r: Record<string, unknown>) => r.networks as Record<string, unknown>[];
    rejects(
      bad((r) => (eps(r)[0]!.mac = 'zz:00:00:00:00:01')),
      /^endpoints\.0\.mac$/,
    );
    rejects(
      bad((r) => (eps(r)[0]!.mac = '01:00:5e:00:00:01')),
      /^endpoints\.0\.mac$/,
    );
    rejects(
      bad((r) => (eps(r)[0]!.ip = '10.1.1')),
      /^endpoints\.0\.ip$/,
    );
    rejects(
      bad((r) => (nets(r)[0]!.encap = 'gre')),
      /^networks\.0\.encap$/,
    );
    rejects(
      bad((r) => (nets(r)[0]!.pktTag = 0)),
      /^networks\.0\.pktTag$/,
    );
    rejects(
      bad((r) => {
        const n = nets(r).find((x) => x.encap === 'vlan')!;
        n.pktTag = 5000;
      }),
      /pktTag$/,
    );
    rejects(
      bad((r) => (nets(r)[0]!.gateway = '10.9.9.1')),
      /^networks\.0\.gateway$/,
    );
    rejects(
      bad((r) => (nets(r)[0]!.networkId = 0)),
      /^networks\.0\.networkId$/,
    );
    rejects(
      bad((r) => ((r.tenants as Record<string, unknown>[])[0]!.ctZone = 70000)),
      /^tenants\.0\.ctZone$/,
    );
    rejects(
      bad((r) => ((r.global as Record<string, unknown>).fwdMode = 'nat')),
      /^global\.fwdMode$/,
    );
  });

  it('rejects local facts with bad or shared ports', () => {
    rejects(
      () => parseLocalFacts({ hostName: 'h1', vtepIp: '192.168.0.1', ports: { a1: { ofport: 0, intfName: 'x' } } }),
      /^ports\.a1\.ofport$/,
    );
    rejects(
      () => parseLocalFacts({ hostName: 'h1', vtepIp: '192.168.0.1', ports: { a1: { ofport: 2, intfName: 'x' } }, bridge: { vxlan: 2 } }),
      /^ports\.a1\.ofport$/,
    );
    rejects(() => parseLocalFacts({ hostName: '', vtepIp: '' }), /^hostName$/);
    const ok = parseLocalFacts({ hostName: 'h1', vtepIp: '', ports: {}, bridge: { uplink: 1 } });
    assert.equal(ok.bridge.uplink, 1);
  });
});

describe('host state: cross-object rules', () => {
  const view = (s: HostState) => () => pipelineView(hostInput('h1', s));

  it('the fixture itself is consistent for every host', () => {
    for (const h of ['h1', 'h2', 'h3', 'h4'] as const) assert.ok(checkedPipeline(hostInput(h)).length > 14);
  });

  it('rejects references to unknown objects', () => {
    rejects(view(mutate((s) => (s.endpoints[0]!.network = 'blue:nope'))), /^endpoints\[0\]\.network$/);
    rejects(view(mutate((s) => (s.endpoints[0]!.group = 'blue:nope'))), /^endpoints\[0\]\.group$/);
    rejects(view(mutate((s) => (s.endpoints[0]!.group = 'blue:back'))), /^endpoints\[0\]\.group$/);
    rejects(
      view(mutate((s) => s.networks.push({ ...s.networks[0]!, key: 'green:web', tenant: 'green', networkId: 99, pktTag: 9999 }))),
      /^networks\[6\]\.tenant$/,
    );
  });

  it('rejects ids and addresses used twice, with CONFLICT', () => {
    rejects(view(mutate((s) => (s.networks[1]!.networkId = s.networks[0]!.networkId))), /^networks\[1\]\.networkId$/, 'CONFLICT');
    rejects(view(mutate((s) => (s.networks[4]!.pktTag = s.networks[3]!.pktTag))), /^networks\[4\]\.pktTag$/, 'CONFLICT');
    rejects(view(mutate((s) => (s.tenants[1]!.ctZone = s.tenants[0]!.ctZone))), /^tenants\[1\]\.ctZone$/, 'CONFLICT');
    rejects(
      view(
        mutate((s) => {
          const a3 = s.endpoints.find((e) => e.id === 'a3')!;
          a3.ip = '10.1.1.10';
        }),
      ),
      /^endpoints\[\d+\]\.ip$/,
      'CONFLICT',
    );
    rejects(
      view(
        mutate((s) => {
          const a3 = s.endpoints.find((e) => e.id === 'a3')!;
          a3.mac = s.endpoints.find((e) => e.id === 'a1')!.mac;
        }),
      ),
      /^endpoints\[\d+\]\.mac$/,
      'CONFLICT',
    );
    rejects(view(mutate((s) => (s.endpoints[0]!.ip = '10.1.1.1'))), /^endpoints\[0\]\.ip$/, 'CONFLICT');
  });

  it('rejects an endpoint outside its subnet and a remote VXLAN endpoint without a VTEP', () => {
    rejects(view(mutate((s) => (s.endpoints[0]!.ip = '10.1.9.10'))), /^endpoints\[0\]\.ip$/);
    rejects(
      view(
        mutate((s) => {
          s.vteps = s.vteps.filter((v) => v.host !== 'h2');
          for (const e of s.endpoints) if (e.host === 'h2') e.vtepIp = '';
        }),
      ),
      /^endpoints\[\d+\]\.vtepIp$/,
    );
  });

  it('accepts the same subnet and the same IPs in two tenants', () => {
    const st = clusterState();
    const blue = st.endpoints.find((e) => e.id === 'a1')!;
    const red = st.endpoints.find((e) => e.id === 'r1')!;
    assert.equal(blue.ip, red.ip);
    assert.doesNotThrow(view(st));
  });
});
