/**
 * Docker's published ports through the CNM plugin: ProgramExternalConnectivity's port map
 * (`com.docker.network.portmap`, libnetwork's PortBinding as dockerd 20.10 sends it) parsed into
 * netloom's published ports, refused with the field named when netloom cannot publish it, given
 * to the backend and kept in the plugin's state (also across a reload); Revoke and DeleteEndpoint
 * forget them.
 */
import { strict as assert } from 'node:assert';
import { isNetloomError, NetloomError } from '../../../lib/errors';
import { parsePortMap, PORT_MAP_OPTION } from '../../../netplugin/cnm/port-map';
import { MemoryStateStore } from '../../../netplugin/cnm/state-store';
import { createEp, createNet, EP, NET, setup } from './harness';

/** One PortBinding as dockerd 20.10 marshals it (`-p 8080:80`: IP and HostIP empty). */
const pb = (over: Record<string, unknown> = {}) => ({ Proto: 6, IP: '', Port: 80, HostIP: '', HostPort: 8080, HostPortEnd: 8080, ...over });
const opts = (portmap: unknown, more: Record<string, unknown> = {}) => ({
  Options: { [PORT_MAP_OPTION]: portmap, 'com.docker.network.endpoint.exposedports': [{ Proto: 6, Port: 80 }], ...more },
});

function refusal(portmap: unknown): { message: string; field: string | undefined } {
  try {
    parsePortMap('ProgramExternalConnectivity', opts(portmap));
  } catch (e) {
    if (isNetloomError(e)) return { message: e.message, field: e.field };
    throw e;
  }
  assert.fail(`accepted ${JSON.stringify(portmap)}`);
}

describe('CNM published ports (com.docker.network.portmap)', () => {
  describe('parsePortMap', () => {
    it('tcp and udp bindings; HostIP "" and 0.0.0.0 mean any address; HostPortEnd 0 or equal is one port', () => {
      assert.deepEqual(
        parsePortMap(
          'P',
          opts([
            pb(),
            pb({ Proto: 17, Port: 53, HostPort: 5353, HostPortEnd: 0, HostIP: '0.0.0.0' }),
            pb({ HostIP: '10.213.1.1', HostPort: 9000, HostPortEnd: 9000, Port: 9000 }),
          ]),
        ),
        [
          { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
          { hostIp: '', hostPort: 5353, containerPort: 53, protocol: 'udp' },
          { hostIp: '10.213.1.1', hostPort: 9000, containerPort: 9000, protocol: 'tcp' },
        ],
      );
    });
    it('no port map (or null, as Docker sends for none) publishes nothing', () => {
      assert.deepEqual(parsePortMap('P', { Options: {} }), []);
      assert.deepEqual(parsePortMap('P', opts(null)), []);
    });

    const F = `Options.${PORT_MAP_OPTION}`;
    const bad: Array<[string, unknown, string, RegExp]> = [
      ['sctp', [pb({ Proto: 132 })], `${F}.0.Proto`, /sctp cannot be published by netloom/],
      ['an unknown protocol', [pb(), pb({ Proto: 1, HostPort: 1 })], `${F}.1.Proto`, /protocol 1 cannot be published/],
      ['no host port (-P)', [pb({ HostPort: 0, HostPortEnd: 0 })], `${F}.0.HostPort`, /does not pick host ports/],
      ['a host port range', [pb({ HostPort: 8000, HostPortEnd: 8010 })], `${F}.0.HostPortEnd`, /range of host ports \(8000-8010\)/],
      ['container port 0', [pb({ Port: 0 })], `${F}.0.Port`, /container port must be 1\.\.65535/],
      ['IPv6 host address', [pb({ HostIP: '::' })], `${F}.0.HostIP`, /:: is IPv6/],
      ['host address not an address', [pb({ HostIP: 'nope' })], `${F}.0.HostIP`, /"nope" is not an IP address/],
      ['multicast host address', [pb({ HostIP: '224.0.0.5' })], `${F}.0.HostIP`, /multicast/],
      ['the same host socket twice', [pb(), pb({ Port: 81 })], `${F}.1.HostPort`, /\*:8080\/tcp is published twice/],
      [
        'any address after one address',
        [pb({ HostIP: '10.0.0.1' }), pb()],
        `${F}.1.HostPort`,
        /published twice \(.*\.0 has 10\.0\.0\.1:8080\/tcp\)/,
      ],
      ['a port out of range', [pb({ HostPort: 70000 })], `${F}.0.HostPort`, /.+/],
      ['a binding not an object', ['8080:80'], `${F}.0`, /.+/],
      ['Proto as text', [pb({ Proto: 'tcp' })], `${F}.0.Proto`, /.+/],
    ];
    for (const [what, portmap, field, msg] of bad) {
      it(`refuses ${what}, naming ${field}`, () => {
        const e = refusal(portmap);
        assert.equal(e.field, field);
        assert.match(e.message, msg);
        assert.match(e.message, /^ProgramExternalConnectivity: /);
      });
    }
  });

  describe('through the plugin', () => {
    async function joined(t: ReturnType<typeof setup>) {
      const pool = await createNet(t);
      await createEp(t, pool);
      await t.ok('NetworkDriver.Join', { NetworkID: NET, EndpointID: EP, SandboxKey: 'k', Options: {} });
    }
    const program = (portmap: unknown) => ({ NetworkID: NET, EndpointID: EP, ...opts(portmap) });

    it('Program hands the ports to the backend and records them (kept across a reload); a repeat replaces them', async () => {
      const store = new MemoryStateStore();
      const t = setup(store);
      await joined(t);
      assert.deepEqual(await t.ok('NetworkDriver.ProgramExternalConnectivity', program([pb()])), {});
      const call = t.backend.calls.find((c) => c.op === 'programExternalConnectivity');
      assert.deepEqual((call?.arg as { ports: unknown }).ports, [{ hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
      assert.deepEqual(setup(store).plugin.snapshot().endpoints[EP]?.ports, [
        { hostIp: '', hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      ]);
      await t.ok('NetworkDriver.ProgramExternalConnectivity', program([pb({ HostPort: 9090, HostPortEnd: 9090 })]));
      assert.deepEqual(
        t.plugin.snapshot().endpoints[EP]?.ports?.map((p) => p.hostPort),
        [9090],
      );
    });

    it('Revoke forgets them (and asks the backend); DeleteEndpoint forgets the endpoint with them', async () => {
      const t = setup();
      await joined(t);
      await t.ok('NetworkDriver.ProgramExternalConnectivity', program([pb()]));
      await t.ok('NetworkDriver.RevokeExternalConnectivity', { NetworkID: NET, EndpointID: EP });
      assert.equal(t.plugin.snapshot().endpoints[EP]?.ports, undefined);
      assert.ok(t.backend.ops().includes('revokeExternalConnectivity'));
      await t.ok('NetworkDriver.ProgramExternalConnectivity', program([pb()]));
      await t.ok('NetworkDriver.Leave', { NetworkID: NET, EndpointID: EP });
      await t.ok('NetworkDriver.DeleteEndpoint', { NetworkID: NET, EndpointID: EP });
      assert.equal(t.plugin.snapshot().endpoints[EP], undefined);
    });

    it('a refused port map is an Err naming the field, the backend is not called and nothing is recorded', async () => {
      const t = setup();
      await joined(t);
      const e = await t.err('NetworkDriver.ProgramExternalConnectivity', program([pb({ Proto: 132 })]));
      assert.match(e, /Options\.com\.docker\.network\.portmap\.0\.Proto: sctp cannot be published/);
      assert.ok(!t.backend.ops().includes('programExternalConnectivity'));
      assert.equal(t.plugin.snapshot().endpoints[EP]?.ports, undefined);
    });

    it('a backend refusal (a host port another endpoint has) leaves the recorded ports as they were', async () => {
      const t = setup();
      await joined(t);
      await t.ok('NetworkDriver.ProgramExternalConnectivity', program([pb()]));
      t.backend.failNext = { op: 'programExternalConnectivity', error: new NetloomError('CONFLICT', 'host port *:9090/tcp is taken') };
      assert.match(
        await t.err('NetworkDriver.ProgramExternalConnectivity', program([pb({ HostPort: 9090, HostPortEnd: 9090 })])),
        /9090\/tcp is taken/,
      );
      assert.deepEqual(
        t.plugin.snapshot().endpoints[EP]?.ports?.map((p) => p.hostPort),
        [8080],
      );
    });

    it('Program for an unknown endpoint is an Err naming EndpointID', async () => {
      const t = setup();
      await createNet(t);
      assert.match(await t.err('NetworkDriver.ProgramExternalConnectivity', program([pb()])), /EndpointID: unknown endpoint/);
    });
  });
});
