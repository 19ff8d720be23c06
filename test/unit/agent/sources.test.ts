/**
 * The agent's control-plane adapters without a control plane: FileFabric follows rewrites of its
 * file (and keeps the last good state on a bad one); NetmasterFabric over a fake client checks
 * states, completes CreateEndpoint answers from the network, and deletes by id and key.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../../lib/clock';
import { createLogger, type Logger } from '../../../lib/logger';
import { FileFabric } from '../../../netplugin/agent/file-fabric';
import { NetmasterFabric } from '../../../netplugin/agent/netmaster-adapter';
import type { NetmasterClient } from '../../../netplugin/netmaster-client/client';
import type { HostState } from '../../../netplugin/state/host-state';
import { buildCommand } from '../../../netplugin/main';

const net = { key: 't1:n', tenant: 't1', name: 'n', encap: 'vlan', pktTag: 10, subnet: '10.2.0.0/16', gateway: '10.2.0.1', networkId: 1 };
const raw = (eps: number) => ({
  tenants: [{ name: 't1', vrfId: 1, ctZone: 1 }],
  networks: [net],
  endpoints: Array.from({ length: eps }, (_, i) => ({
    id: `e${i}`,
    network: 't1:n',
    host: 'h1',
    ip: `10.2.0.${i + 10}`,
    mac: `02:00:00:00:00:${(i + 16).toString(16)}`,
    containerId: `c${i}`,
  })),
});

/** A logger whose lines the test can read: FileFabric says when it reads and refuses a bad file. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger('test', { level: 'error', destination: { write: (line: string) => lines.push(line) } }), lines };
}

class FakeClient extends EventEmitter {
  created: unknown[] = [];
  deleted: unknown[] = [];
  acks: string[] = [];
  started = false;
  acknowledge(revision: string): void {
    this.acks.push(revision);
  }
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {}
  async createEndpoint(req: Record<string, unknown>) {
    this.created.push(req);
    return { id: 'ep-9', network: 't1:n', ip: '10.2.0.99', mac: '02:AA:00:00:00:01' };
  }
  async deleteEndpoint(req: unknown) {
    this.deleted.push(req);
    return { existed: true };
  }
}

describe('agent control-plane adapters', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nl-agent-unit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('FileFabric delivers the file, each rewrite, and skips an invalid one', async () => {
    const path = join(dir, 'fabric.json');
    writeFileSync(path, JSON.stringify(raw(1)));
    const seen: HostState[] = [];
    const { logger, lines } = recordingLogger();
    const f = new FileFabric(path, { pollMs: 10, logger });
    await f.start((s) => seen.push(s));
    assert.equal(seen.length, 1);
    assert.equal(f.connected, true);
    writeFileSync(path, JSON.stringify({ ...raw(1), networks: [{ ...net, pktTag: 99999 }] })); // invalid VLAN
    await waitFor('the invalid file to be read and refused', () => lines.some((l) => l.includes('not a valid HostState')), {
      timeoutMs: 2000,
      intervalMs: 5,
    });
    assert.equal(seen.length, 1, 'invalid state not delivered');
    writeFileSync(path, JSON.stringify(raw(2)));
    await waitFor('the rewritten file to be delivered', () => seen.length >= 2, { timeoutMs: 2000, intervalMs: 5 });
    await f.stop();
    assert.equal(seen.length, 2);
    assert.equal(seen[1]!.endpoints.length, 2);
    const ep = await f.create({
      idempotencyKey: 'k',
      host: 'h1',
      tenant: 't1',
      network: 'n',
      containerId: 'c1',
      ifName: 'eth0',
      labels: {},
    });
    assert.equal(ep.ip, '10.2.0.11');
    assert.equal(ep.prefixLength, 16);
  });

  it('FileFabric follows a file renamed into place at once, without waiting for its slow poll', async () => {
    const path = join(dir, 'fabric.json');
    writeFileSync(path, JSON.stringify(raw(1)));
    const seen: HostState[] = [];
    const f = new FileFabric(path, { pollMs: 600_000 });
    await f.start((s) => seen.push(s));
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(raw(2)));
      renameSync(`${path}.tmp`, path);
      await waitFor('the renamed file to be delivered', () => seen.length >= 2, { timeoutMs: 2000, intervalMs: 5 });
      assert.equal(seen[1]!.endpoints.length, 2);
    } finally {
      await f.stop();
    }
  });

  it('NetmasterFabric hands on checked states and completes endpoints from their network', async () => {
    const fake = new FakeClient();
    const nf = new NetmasterFabric(fake as unknown as NetmasterClient); // a fake with the methods the adapter calls
    const seen: HostState[] = [];
    await nf.start((s) => seen.push(s));
    assert.ok(fake.started);
    fake.emit('state', { ...raw(0), networks: [{ ...net, encap: 'bogus' }] }, '5', 'snapshot');
    assert.equal(seen.length, 0, 'an invalid state is not handed on');
    const pending = nf.create({
      idempotencyKey: 'k1',
      host: 'h1',
      tenant: 't1',
      network: 'n',
      containerId: 'c',
      ifName: 'eth0',
      labels: { a: 'b' },
    });
    // one turn of the event loop: the fake's answer (promises only) is handed back before the network arrives
    await new Promise((r) => setImmediate(r));
    fake.emit('state', raw(0), '6', 'snapshot'); // the network arrives after CreateEndpoint answered
    const ep = await pending;
    assert.deepEqual(ep, {
      id: 'ep-9',
      networkKey: 't1:n',
      tenant: 't1',
      network: 'n',
      ip: '10.2.0.99',
      prefixLength: 16,
      mac: '02:aa:00:00:00:01',
      gateway: '10.2.0.1',
    });
    assert.equal(seen.length, 1);
    assert.equal(nf.connected, true);
    assert.deepEqual((fake.created[0] as { intfName: string; labels: unknown }).intfName, 'eth0');
    await nf.delete({ endpointId: 'ep-9', idempotencyKey: 'k1' });
    assert.deepEqual(fake.deleted, [{ id: 'ep-9', idempotencyKey: 'k1' }]);
    fake.emit('disconnected', 'gone');
    assert.equal(nf.connected, false);
  });

  it('NetmasterFabric acknowledges the revision of the state the agent realized, and progress marks once the newest is realized', async () => {
    const fake = new FakeClient();
    const nf = new NetmasterFabric(fake as unknown as NetmasterClient);
    const seen: HostState[] = [];
    await nf.start((s) => seen.push(s));
    fake.emit('state', raw(1), '10', 'snapshot');
    fake.emit('progress', '11'); // not realized yet: nothing to acknowledge
    assert.deepEqual(fake.acks, []);
    fake.emit('state', raw(2), '12', 'changes');
    // the reconcile that started with the first state finishes after the second arrived
    nf.realized(seen[0]!);
    assert.deepEqual(fake.acks, ['10'], 'the older state: its own revision');
    fake.emit('progress', '13');
    assert.deepEqual(fake.acks, ['10'], 'the newest state is not realized yet');
    nf.realized(seen[1]!);
    assert.deepEqual(fake.acks, ['10', '13'], 'the newest state, with the progress mark after it');
    fake.emit('progress', '14');
    assert.deepEqual(fake.acks, ['10', '13', '14'], 'a progress mark after a realized state is realized too');
    // a state the agent cannot use: it keeps the old one, so nothing newer is acknowledged
    fake.emit('state', { ...raw(0), networks: [{ ...net, encap: 'bogus' }] }, '15', 'changes');
    fake.emit('progress', '16');
    nf.realized(seen[1]!);
    assert.deepEqual(fake.acks, ['10', '13', '14', '12'], 'its own revision only (the client never goes back)');
    nf.realized({ ...seen[1]! }); // not a state it handed on
    assert.equal(fake.acks.length, 4);
  });

  it('netplugin --help lists every option', () => {
    const help = buildCommand().helpInformation();
    for (const o of [
      '--host',
      '--netmaster-grpc',
      '--netmaster-stall-timeout',
      '--tls-ca',
      '--tls-cert',
      '--tls-key',
      '--insecure',
      '--ovs-rundir',
      '--datapath',
      '--uplink',
      '--vtep-ip',
      '--cni-socket',
      '--cnm-socket',
      '--cnm-state',
      '--state-dir',
      '--metrics-listen',
      '--log-level',
      '--no-host-network',
    ]) {
      assert.ok(help.includes(o), o);
    }
  });

  it('the host network (gateway ports, nftables, rules, routes) is on unless --no-host-network', () => {
    const opts = (args: string[]) =>
      buildCommand()
        .parse(['node', 'netplugin', ...args])
        .opts<{ hostNetwork: boolean }>();
    assert.equal(opts([]).hostNetwork, true);
    assert.equal(opts(['--no-host-network']).hostNetwork, false);
  });
});

describe('bin/netplugin', () => {
  const bin = join(__dirname, '../../../../bin/netplugin');
  const runBin = (args: string[]) =>
    spawnSync('sh', [bin, ...args], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '' }, timeout: 20_000 });

  it('--help exits 0 and names the options', () => {
    const r = runBin(['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--netmaster-grpc <host:port>/);
    assert.match(r.stdout, /--datapath <type>.*netdev/s);
  });

  it('refuses bad options with one clear line and exit 1, before touching OVS', function () {
    // six program starts in a row: seconds each on a loaded machine
    this.timeout(120_000);
    const noSource = runBin(['--log-level', 'silent']);
    assert.equal(noSource.status, 1);
    assert.equal(noSource.stderr.trim(), 'netplugin: give --netmaster-grpc (or --fabric-file)');
    const badVtep = runBin(['--fabric-file', '/nonexistent.json', '--vtep-ip', '10.0.0.1', '--log-level', 'silent']);
    assert.equal(badVtep.status, 1);
    assert.match(badVtep.stderr, /--vtep-ip must be an IPv4 address with prefix/);
    const badAddr = runBin(['--netmaster-grpc', 'nohostport', '--log-level', 'silent']);
    assert.equal(badAddr.status, 1);
    assert.match(badAddr.stderr, /--netmaster-grpc must be host:port/);
    const badStall = runBin(['--netmaster-grpc', '127.0.0.1:1', '--netmaster-stall-timeout', 'soon', '--log-level', 'silent']);
    assert.equal(badStall.status, 1);
    assert.match(badStall.stderr, /--netmaster-stall-timeout must be 0\.\.3600 seconds/);
    const dockerNoCnm = runBin(['--fabric-file', '/nonexistent.json', '--docker-networks', '--log-level', 'silent']);
    assert.equal(dockerNoCnm.status, 1);
    assert.match(dockerNoCnm.stderr, /--docker-networks needs --cnm-socket/);
    const badInterval = runBin(['--fabric-file', '/nonexistent.json', '--docker-networks-interval', '0', '--log-level', 'silent']);
    assert.equal(badInterval.status, 1);
    assert.match(badInterval.stderr, /--docker-networks-interval must be 0\.1\.\.3600 seconds/);
  });

  it('refuses to follow netmaster without mutual TLS unless given --insecure', () => {
    const plain = runBin(['--netmaster-grpc', '127.0.0.1:1', '--log-level', 'silent']);
    assert.equal(plain.status, 1);
    assert.match(
      plain.stderr,
      /refusing to talk to netmaster without mutual TLS: give --tls-ca, --tls-cert and --tls-key .* or --insecure/,
    );
    const caOnly = runBin(['--netmaster-grpc', '127.0.0.1:1', '--tls-ca', '/ca.crt', '--log-level', 'silent']);
    assert.match(caOnly.stderr, /without mutual TLS/, 'TLS without a client certificate is not enough');
  });
});
