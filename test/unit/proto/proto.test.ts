import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { loadAgentProto } from '../../../proto/loader';

const ROOT = resolve(__dirname, '../../../..');

function files(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, base) : [p.slice(base.length + 1)];
  });
}

describe('proto', () => {
  it('loads the agent service with every RPC', () => {
    const svc = loadAgentProto().netloom.v1.Agent.service;
    assert.deepEqual(Object.keys(svc).sort(), [
      'AnswerQuery',
      'ClaimBlock',
      'CreateEndpoint',
      'DeleteEndpoint',
      'Heartbeat',
      'ListNetworks',
      'LookupNetwork',
      'Queries',
      'Register',
      'ReleaseBlock',
      'SetEndpointLabels',
      'SyncEndpoints',
      'WatchDesiredState',
    ]);
    assert.equal(svc.WatchDesiredState.responseStream, true);
    assert.equal(svc.Queries.responseStream, true);
  });

  it('carries the BGP inspect query and answer (issue 16: netctl bgp inspect)', () => {
    const v1 = loadAgentProto().netloom.v1 as unknown as Record<string, { type: { field: Array<{ name: string; number: number }> } }>;
    const field = (msg: string, name: string) => v1[msg]?.type.field.find((f) => f.name === name)?.number;
    assert.equal(field('AgentQuery', 'bgp'), 3);
    assert.equal(field('QueryAnswer', 'bgp'), 7);
    assert.deepEqual(
      v1['BgpNeighborStatus']?.type.field.map((f) => f.name),
      [
        'address',
        'peerAs',
        'localAs',
        'state',
        'adminDown',
        'uptimeSeconds',
        'holdTime',
        'negotiatedHoldTime',
        'received',
        'accepted',
        'advertised',
      ],
    );
    assert.deepEqual(
      v1['BgpInspectResult']?.type.field.map((f) => f.name),
      ['host', 'running', 'error', 'pid', 'as', 'routerId', 'neighbors', 'announced', 'installed'],
    );
  });

  it('has generated types that match agent.proto (run npm run proto:gen after editing it)', function () {
    this.timeout(30_000);
    const out = mkdtempSync(join(tmpdir(), 'nl-protogen-'));
    try {
      execFileSync(
        join(ROOT, 'node_modules/.bin/proto-loader-gen-types'),
        [
          '--longs=String',
          '--enums=String',
          '--defaults',
          '--oneofs',
          '--grpcLib=@grpc/grpc-js',
          `--outDir=${out}`,
          'proto/netloom/agent.proto',
        ],
        { cwd: ROOT, stdio: 'ignore' },
      );
      const gen = files(out).sort();
      assert.deepEqual(gen, files(join(ROOT, 'proto/gen')).sort());
      for (const f of gen) assert.equal(readFileSync(join(ROOT, 'proto/gen', f), 'utf8'), readFileSync(join(out, f), 'utf8'), f);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
