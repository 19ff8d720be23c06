/**
 * The GoBGP client against an in-process fake of apipb.GobgpApi (same proto files, a unix socket):
 * what it sends (Any-packed NLRI and attributes), how it reads replies, and that a reply missing
 * what the contract promises is a DECODE_ERROR naming the field.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { isNetloomError } from '../../../lib/errors';
import { GobgpClient } from '../../../netplugin/bgp/gobgp-client';
import { gobgpServiceCtor } from '../../../netplugin/bgp/gobgp-proto';
import { anyType, packAny, unpackAny, type AnyMsg } from '../../../netplugin/bgp/path-codec';

type Handler = (req: unknown) => { reply?: unknown; rows?: unknown[]; error?: Partial<grpc.StatusObject> };

describe('bgp: GoBGP gRPC client (fake server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-client-'));
  const target = `unix://${join(dir, 'api.sock')}`;
  const handlers: Record<string, Handler> = {};
  const server = new grpc.Server();
  let client: GobgpClient;

  before(async () => {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const name of ['GetBgp', 'StartBgp', 'AddPeer', 'AddPath', 'DeletePath']) {
      impl[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        const h = handlers[name]?.(call.request) ?? { reply: {} };
        if (h.error) cb(h.error as grpc.ServiceError, null);
        else cb(null, h.reply);
      };
    }
    for (const name of ['ListPeer', 'ListPath']) {
      impl[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const h = handlers[name]?.(call.request) ?? { rows: [] };
        for (const r of h.rows ?? []) call.write(r);
        call.end();
      };
    }
    server.addService(gobgpServiceCtor().service, impl);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
    client = new GobgpClient(target, { timeoutMs: 2000 });
  });

  after(() => {
    client.close();
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('AddPath sends the prefix and next hop packed in Any (IPAddressPrefix, OriginAttribute, NextHopAttribute)', async () => {
    let sent: { tableType: string; path: { nlri: AnyMsg; pattrs: AnyMsg[]; family: { afi: string; safi: string } } } | undefined;
    handlers.AddPath = (req) => {
      sent = req as typeof sent;
      return { reply: { uuid: Buffer.from('0102', 'hex') } };
    };
    assert.equal(await client.addPath({ prefix: '10.9.0.0/24', nextHop: '10.0.0.1' }), '0102');
    assert.ok(sent);
    assert.equal(sent.tableType, 'GLOBAL');
    assert.deepEqual(sent.path.family, { afi: 'AFI_IP', safi: 'SAFI_UNICAST' });
    assert.equal(anyType(sent.path.nlri), 'apipb.IPAddressPrefix');
    assert.deepEqual(unpackAny(sent.path.nlri, 'nlri'), { prefix: '10.9.0.0', prefixLen: 24 });
    assert.deepEqual(
      sent.path.pattrs.map((a) => anyType(a)),
      ['apipb.OriginAttribute', 'apipb.NextHopAttribute'],
    );
    assert.deepEqual(unpackAny(sent.path.pattrs[1] as AnyMsg, 'pattrs.1'), { nextHop: '10.0.0.1' });
  });

  const learnedPath = {
    nlri: packAny('apipb.IPAddressPrefix', { prefix: '10.9.0.0', prefixLen: 24 }),
    pattrs: [
      packAny('apipb.OriginAttribute', { origin: 0 }),
      packAny('apipb.AsPathAttribute', {
        segments: [
          { type: 'AS_SEQUENCE', numbers: [65000, 65003] },
          { type: 'AS_SET', numbers: [1, 2] },
        ],
      }),
      packAny('apipb.NextHopAttribute', { nextHop: '10.0.0.3' }),
      packAny('apipb.LocalPrefAttribute', { localPref: 200 }),
      packAny('apipb.MultiExitDiscAttribute', { med: 7 }),
    ],
    best: true,
    neighborIp: '10.0.0.254',
    identifier: 4,
    family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' },
  };

  it('ListPath decodes learned and local paths; other families are skipped', async () => {
    const local = {
      ...learnedPath,
      pattrs: [packAny('apipb.NextHopAttribute', { nextHop: '10.0.0.1' })],
      neighborIp: '<nil>',
      identifier: 0,
    };
    const v6 = { ...learnedPath, family: { afi: 'AFI_IP6', safi: 'SAFI_UNICAST' } };
    handlers.ListPath = () => ({ rows: [{ destination: { prefix: '10.9.0.0/24', paths: [learnedPath, local, v6] } }] });
    const [d] = await client.listPaths();
    assert.ok(d);
    assert.equal(d.paths.length, 2);
    const [l, own] = d.paths;
    assert.deepEqual(
      { ...l, uuid: undefined },
      {
        prefix: '10.9.0.0/24',
        nextHop: '10.0.0.3',
        best: true,
        local: false,
        uuid: undefined,
        neighbor: '10.0.0.254',
        asPath: [65000, 65003, 1, 2],
        asPathLength: 3,
        origin: 0,
        med: 7,
        localPref: 200,
        identifier: 4,
        withdrawn: false,
        nextHopInvalid: false,
        stale: false,
      },
    );
    assert.equal(own?.local, true);
    assert.equal(own?.neighbor, '');
  });

  it('ListPeer maps state, uptime, hold times and IPv4 unicast prefix counts', async () => {
    handlers.ListPeer = () => ({
      rows: [
        {
          peer: {
            conf: { neighborAddress: '10.0.0.254', peerAsn: 65000 },
            state: { neighborAddress: '10.0.0.254', peerAsn: 65000, localAsn: 65001, sessionState: 'ESTABLISHED' },
            timers: { config: { holdTime: '9' }, state: { negotiatedHoldTime: '9', uptime: { seconds: '1700000000', nanos: 5e8 } } },
            afiSafis: [
              {
                config: { family: { afi: 'AFI_IP', safi: 'SAFI_UNICAST' }, enabled: true },
                state: { received: '3', accepted: '2', advertised: '1' },
                addPaths: { config: { receive: true } },
              },
            ],
          },
        },
        {
          peer: {
            conf: { neighborAddress: '10.0.0.77', peerAsn: 65077 },
            state: { sessionState: 'ACTIVE' },
            timers: { state: { uptime: { seconds: '0' } } },
          },
        },
      ],
    });
    const [up, silent] = await client.listPeers();
    assert.deepEqual(up, {
      address: '10.0.0.254',
      peerAsn: 65000,
      localAsn: 65001,
      state: 'ESTABLISHED',
      adminDown: false,
      uptimeSince: 1700000000500,
      holdTimeS: 9,
      negotiatedHoldTimeS: 9,
      received: 3,
      accepted: 2,
      advertised: 1,
      addPathsReceive: true,
    });
    assert.equal(silent?.state, 'ACTIVE');
    assert.equal(silent?.uptimeSince, undefined, 'a session that never came up has no uptime');
  });

  it('a reply without what the contract promises is DECODE_ERROR naming the field', async () => {
    handlers.ListPeer = () => ({ rows: [{}] });
    await assert.rejects(client.listPeers(), (e) => isNetloomError(e, 'DECODE_ERROR') && e.field === 'peer');
    handlers.AddPath = () => ({ reply: {} });
    await assert.rejects(
      client.addPath({ prefix: '10.9.0.0/24', nextHop: '10.0.0.1' }),
      (e) => isNetloomError(e, 'DECODE_ERROR') && e.field === 'uuid',
    );
    const garbled = {
      ...learnedPath,
      nlri: { type_url: 'type.googleapis.com/apipb.IPAddressPrefix', value: Buffer.from([0xff, 0xff, 0xff]) },
    };
    handlers.ListPath = () => ({ rows: [{ destination: { prefix: '10.9.0.0/24', paths: [garbled] } }] });
    await assert.rejects(client.listPaths(), (e) => isNetloomError(e, 'DECODE_ERROR') && e.field === 'destination[0].paths.0.nlri');
    const unknownAttr = { ...learnedPath, pattrs: [{ type_url: 'type.googleapis.com/apipb.NoSuchAttribute', value: Buffer.alloc(0) }] };
    handlers.ListPath = () => ({ rows: [{ destination: { prefix: '10.9.0.0/24', paths: [unknownAttr] } }] });
    const [d] = await client.listPaths();
    assert.equal(d?.paths[0]?.nextHop, '', 'an attribute type we do not know is ignored, not fatal');
  });

  it("GoBGP's refusals are COMMAND_FAILED quoting it; no gobgpd is UNAVAILABLE; bad arguments never leave", async () => {
    handlers.AddPeer = () => ({ error: { code: grpc.status.UNKNOWN, details: "can't overwrite the existing peer: 10.0.0.254" } });
    await assert.rejects(
      client.addPeer({ address: '10.0.0.254', peerAsn: 65000, holdTimeS: 9, connectRetryS: 5, addPathsReceive: true, passive: false }),
      (e) => isNetloomError(e, 'COMMAND_FAILED') && /AddPeer: can't overwrite/.test(e.message),
    );
    let called = false;
    handlers.AddPeer = () => ((called = true), { reply: {} });
    await assert.rejects(
      client.addPeer({ address: '10.0.0.300', peerAsn: 65000, holdTimeS: 9, connectRetryS: 5, addPathsReceive: true, passive: false }),
      (e) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'address',
    );
    assert.equal(called, false);
    const nobody = new GobgpClient(`unix://${join(dir, 'none.sock')}`, { timeoutMs: 500 });
    try {
      await assert.rejects(nobody.getBgp(), (e) => isNetloomError(e, 'UNAVAILABLE') || isNetloomError(e, 'TIMEOUT'));
    } finally {
      nobody.close();
    }
  });

  it('GetBgp: AS 0 means BGP not started', async () => {
    handlers.GetBgp = () => ({ reply: { global: { asn: 0 } } });
    assert.equal(await client.getBgp(), undefined);
    handlers.GetBgp = () => ({ reply: { global: { asn: 65001, routerId: '10.0.0.1', listenPort: 179, listenAddresses: [] } } });
    assert.deepEqual(await client.getBgp(), { asn: 65001, routerId: '10.0.0.1', listenPort: 179, listenAddresses: [] });
  });
});
