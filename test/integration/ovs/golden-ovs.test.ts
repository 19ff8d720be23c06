/**
 * The decoder against what a real ovs-vswitchd (3.1, userspace datapath) sends over OpenFlow 1.3,
 * through a minimal raw client (no connection library): HELLO, FEATURES_REPLY, GET_CONFIG_REPLY,
 * ROLE_REPLY, every multipart reply kind we model (desc, flow, aggregate, table, port stats, port
 * desc, group desc, meter config, meter stats), PORT_STATUS, FLOW_REMOVED, PACKET_IN, ERROR
 * (standard, and ONF bundle errors) and bundle replies. Every message received must decode and
 * re-encode to exactly the bytes OVS sent, and its content must agree with ovs-ofctl / ovs-vsctl.
 * OVS runs in namespace ofc-golden with its files under /tmp/nl-ofcodec/ovs-golden.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { OvsInstance, ovsCtl, startOvs, stopOvs } from '../../../deploy/lab/ovs-instance';
import { BRIDGE_ARGS } from './openflow-lab';
import { decodeMessage, encodeMessage, readHeader } from '../../../ovs/openflow/codec';
import type { FlowMod, MeterMod, MultipartReplyBody, MultipartRequestBody, OfMessage } from '../../../ovs/openflow/messages';
import { OFPG_ANY, OFPMF, OFPP, OFP_NO_BUFFER } from '../../../ovs/openflow/messages';
import { formatFlowMod, parseFlow, parseFlowStatsLine } from '../../../tools/openflow-text/flow-text';
import { formatGroup, formatMeter, parseGroup, parseMeter } from '../../../tools/openflow-text/group-meter-text';

const NS = 'ofc-golden';
const DIR = '/tmp/nl-ofcodec/ovs-golden';
const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/openflow');

function fixture(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

/** A raw OpenFlow client: frames the stream, keeps every message received, checks each re-encodes identically. */
class RawClient {
  readonly received: { raw: Buffer; msg: OfMessage }[] = [];
  readonly problems: string[] = [];
  private pending = Buffer.alloc(0);
  private waiters: { pred: (m: OfMessage) => boolean; resolve: (m: OfMessage) => void }[] = [];
  private xid = 100;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (chunk) => this.onData(chunk));
    sock.on('error', (e) => this.problems.push(`socket: ${e.message}`));
  }

  /** Listen on a unix socket and take the first connection OVS makes to it (OVS as the active side, we are its controller). */
  static accept(file: string, connectNow: () => Promise<void>): Promise<{ client: Promise<RawClient>; server: net.Server }> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(file, () => {
        const client = new Promise<RawClient>((res, rej) => {
          const timer = setTimeout(() => rej(new Error('OVS did not connect to the controller socket within 10 s')), 10_000);
          server.once('connection', (sock) => {
            clearTimeout(timer);
            res(new RawClient(sock));
          });
        });
        void connectNow().then(() => resolve({ client, server }), reject);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 8) {
      const h = readHeader(this.pending, 0);
      if (this.pending.length < h.length) break;
      const raw = Buffer.from(this.pending.subarray(0, h.length));
      this.pending = this.pending.subarray(h.length);
      let msg: OfMessage;
      try {
        msg = decodeMessage(raw);
      } catch (e) {
        this.problems.push(`cannot decode ${raw.toString('hex')}: ${(e as Error).message}`);
        continue;
      }
      if (!encodeMessage(msg).equals(raw))
        this.problems.push(
          `${msg.type} re-encodes differently:\n  ovs ${raw.toString('hex')}\n  our ${encodeMessage(msg).toString('hex')}`,
        );
      this.received.push({ raw, msg });
      if (msg.type === 'echo_request') this.send({ type: 'echo_reply', xid: msg.xid, data: msg.data });
      for (const w of [...this.waiters]) {
        if (w.pred(msg)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
    }
  }

  nextXid(): number {
    return this.xid++;
  }

  send(m: OfMessage): void {
    this.sock.write(encodeMessage(m));
  }

  /** The first message (already received or future) matching pred; fails after 5 s. */
  waitFor(what: string, pred: (m: OfMessage) => boolean): Promise<OfMessage> {
    const have = this.received.find((r) => pred(r.msg));
    if (have) return Promise.resolve(have.msg);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} from OVS within 5 s`)), 5000);
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async request(m: OfMessage): Promise<OfMessage> {
    this.send(m);
    return this.waitFor(`reply to ${m.type} xid ${m.xid}`, (r) => r.xid === m.xid && r.type !== 'echo_request');
  }

  /** All parts of a multipart reply (until the MORE flag clears). */
  async multipart(body: MultipartRequestBody): Promise<MultipartReplyBody[]> {
    const xid = this.nextXid();
    this.send({ type: 'multipart_request', xid, flags: 0, body });
    const parts: MultipartReplyBody[] = [];
    for (let i = 0; i < 1000; i++) {
      const seen = parts.length;
      const m = await this.waitFor(
        `multipart reply part ${seen} for xid ${xid}`,
        (r) => r.xid === xid && r.type === 'multipart_reply' && !this.taken.has(r),
      );
      this.taken.add(m);
      if (m.type !== 'multipart_reply') throw new Error(`OVS answered ${m.type}`);
      parts.push(m.body);
      if (!(m.flags & 1)) return parts;
    }
    throw new Error('more than 1000 multipart parts');
  }

  private readonly taken = new Set<OfMessage>();

  close(): void {
    this.sock.destroy();
  }
}

describe('decoding what a real ovs-vswitchd sends (OpenFlow 1.3)', function () {
  this.timeout(60_000);
  let inst: OvsInstance | undefined;
  let client: RawClient | undefined;
  let server: net.Server | undefined;

  const vsctl = (args: string[]): Promise<string> => ovsCtl(inst!, 'ovs-vsctl', args);
  const ofctl = (args: string[]): Promise<string> => ovsCtl(inst!, 'ovs-ofctl', ['-O', 'OpenFlow13', ...args]);

  async function teardown(): Promise<void> {
    client?.close();
    client = undefined;
    await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
    server = undefined;
    await stopOvs(DIR);
    await delNetns(NS);
    rmSync(DIR, { recursive: true, force: true });
  }

  before(async () => {
    await teardown();
    await addNetns(NS);
    inst = await startOvs(DIR, NS);
    await vsctl([...BRIDGE_ARGS, 'other_config:datapath-id=00000000000000ab']);
    const ctl = `${inst.runDir}/ofc-controller.sock`; // OVS dials unix controllers only inside its run directory
    const accepted = await RawClient.accept(ctl, async () => {
      await vsctl(['set-controller', 'br0', `unix:${ctl}`]);
    });
    server = accepted.server;
    client = await accepted.client;
    client.send({ type: 'hello', xid: 1, versions: [4] });
    const hello = await client.waitFor('HELLO', (m) => m.type === 'hello');
    assert.ok(hello.type === 'hello' && hello.versions?.includes(4));
  });

  after(async () => {
    await teardown();
  });

  it('features, config and role replies', async () => {
    const c = client!;
    const f = await c.request({ type: 'features_request', xid: c.nextXid() });
    assert.ok(f.type === 'features_reply');
    assert.equal(f.datapathId, 0xabn);
    assert.ok(f.nTables > 0);
    c.send({ type: 'set_config', xid: c.nextXid(), flags: 0, missSendLen: 0xffff });
    const cfg = await c.request({ type: 'get_config_request', xid: c.nextXid() });
    assert.ok(cfg.type === 'get_config_reply' && cfg.missSendLen === 0xffff, `get_config: ${JSON.stringify(cfg)}`);
    const role = await c.request({ type: 'role_request', xid: c.nextXid(), role: 'nochange', generationId: 0n });
    assert.ok(
      role.type === 'role_reply' && role.role === 'equal',
      `role: ${JSON.stringify(role, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
    );
  });

  it('desc, port desc, port stats and table stats multipart replies', async () => {
    const c = client!;
    const [desc] = await c.multipart({ kind: 'desc' });
    assert.ok(
      desc?.kind === 'desc' && /Open vSwitch/.test(desc.hwDesc) && /^\d+\.\d+/.test(desc.swDesc),
      `desc names Open vSwitch: ${JSON.stringify(desc)}`,
    );
    const ports = (await c.multipart({ kind: 'port_desc' })).flatMap((p) => (p.kind === 'port_desc' ? p.ports : []));
    const local = ports.find((p) => p.portNo === OFPP.LOCAL);
    assert.equal(local?.name, 'br0');
    const hwAddr = (await vsctl(['get', 'interface', 'br0', 'mac_in_use'])).trim().replace(/"/g, '');
    assert.equal(local?.hwAddr, hwAddr);
    const stats = (await c.multipart({ kind: 'port_stats', portNo: OFPP.ANY })).flatMap((p) => (p.kind === 'port_stats' ? p.entries : []));
    assert.ok(stats.some((s) => s.portNo === OFPP.LOCAL));
    const tables = (await c.multipart({ kind: 'table' })).flatMap((p) => (p.kind === 'table' ? p.entries : []));
    assert.equal(tables[0]?.tableId, 0);
    assert.ok(tables.length >= 200, `${tables.length} tables`);
  });

  it('group desc and meter config equal what ovs-ofctl installed from the fixtures', async () => {
    const c = client!;
    const groups = fixture('groups.txt').filter((l) => !/group_id=4294967040/.test(l));
    await ofctl(['add-groups', 'br0', path.join(FIXTURES, 'groups.txt')]);
    const meters = fixture('meters.txt').filter((l) => !l.includes('dscp_remark')); // the userspace datapath has drop bands only
    for (const m of meters) await ofctl(['add-meter', 'br0', m]);
    const gd = (await c.multipart({ kind: 'group_desc' })).flatMap((p) => (p.kind === 'group_desc' ? p.entries : []));
    const want = new Set(groups.map((l) => encodeMessage(parseGroup(l)).toString('hex')));
    const got = new Set(gd.map((g) => encodeMessage(parseGroup(formatGroup(g))).toString('hex')));
    for (const w of want)
      assert.ok(got.has(w), `group ${formatGroup(decodeMessage(Buffer.from(w, 'hex')) as never)} is in OVS's group desc`);
    const mc = (await c.multipart({ kind: 'meter_config', meterId: 0xffffffff })).flatMap((p) =>
      p.kind === 'meter_config' ? p.entries : [],
    );
    // OVS stores burst_size = rate when the meter has no burst flag: compare without it there
    const norm = (m: MeterMod): string =>
      formatMeter({ ...m, bands: m.bands.map((b) => (m.flags & OFPMF.BURST ? b : { ...b, burstSize: 0 })) });
    const wantM = meters.map((l) => norm(parseMeter(l))).sort();
    assert.deepEqual(mc.map((m) => norm({ ...parseMeter('meter=1,band=type=drop,rate=1'), ...m })).sort(), wantM);
    const ms = (await c.multipart({ kind: 'meter_stats', meterId: 0xffffffff })).flatMap((p) =>
      p.kind === 'meter_stats' ? p.entries : [],
    );
    assert.deepEqual(
      ms.map((m) => m.meterId).sort((a, b) => a - b),
      mc.map((m) => m.meterId).sort((a, b) => a - b),
    );
  });

  it('flow stats and aggregate agree with ovs-ofctl dump-flows', async () => {
    const c = client!;
    const flows = fixture('flows.txt');
    await ofctl(['add-flows', 'br0', writeTemp(flows)]);
    const entries = (
      await c.multipart({ kind: 'flow', tableId: 0xff, outPort: OFPP.ANY, outGroup: OFPG_ANY, cookie: 0n, cookieMask: 0n, match: [] })
    ).flatMap((p) => (p.kind === 'flow' ? p.entries : []));
    const dumped = (await ofctl(['dump-flows', 'br0']))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('OFPST_FLOW'));
    assert.equal(entries.length, dumped.length);
    const key = (fm: FlowMod): string => encodeMessage({ ...fm, xid: 0 }).toString('hex');
    const ours = new Set(
      entries.map((e) =>
        key(
          parseFlow(
            formatFlowMod({
              ...parseFlow('actions=drop'),
              tableId: e.tableId,
              priority: e.priority,
              cookie: e.cookie,
              idleTimeout: e.idleTimeout,
              hardTimeout: e.hardTimeout,
              flags: e.flags,
              match: e.match,
              instructions: e.instructions,
            }),
          ),
        ),
      ),
    );
    const theirs = new Set(dumped.map((l) => key(parseFlowStatsLine(l))));
    assert.deepEqual([...ours].sort(), [...theirs].sort());
    const [agg] = await c.multipart({
      kind: 'aggregate',
      tableId: 0xff,
      outPort: OFPP.ANY,
      outGroup: OFPG_ANY,
      cookie: 0n,
      cookieMask: 0n,
      match: [],
    });
    assert.ok(agg?.kind === 'aggregate' && agg.flowCount === entries.length);
  });

  it('errors name the failure and carry the failed request; bundle errors are ONF experimenter errors', async () => {
    const c = client!;
    const bad = { ...parseFlow('table=3,actions=goto_table:2'), xid: c.nextXid() };
    const err = await c.request(bad);
    assert.ok(err.type === 'error', `OVS answered ${err.type}`);
    assert.equal(err.typeName, 'OFPET_BAD_INSTRUCTION');
    assert.equal(err.codeName, 'OFPBIC_BAD_TABLE_ID');
    assert.deepEqual(err.failedRequest, { type: 14, xid: bad.xid });

    // a bundled message that fails validation on add gets its own error, naming the bundled request's xid
    const bundleId = 7;
    const open = await c.request({
      type: 'bundle_control',
      xid: c.nextXid(),
      bundleId,
      ctrlType: 'open_request',
      flags: 3,
      properties: Buffer.alloc(0),
    });
    assert.ok(open.type === 'bundle_control' && open.ctrlType === 'open_reply');
    const addXid = c.nextXid();
    c.send({
      type: 'bundle_add',
      xid: addXid,
      bundleId,
      flags: 3,
      message: { ...parseFlow('table=5,actions=goto_table:1'), xid: addXid },
      properties: Buffer.alloc(0),
    });
    const addErr = await c.waitFor('error for the bundled flow', (m) => m.type === 'error' && m.xid === addXid);
    assert.ok(
      addErr.type === 'error' && addErr.codeName === 'OFPBIC_BAD_TABLE_ID',
      `bundle add error: ${addErr.type === 'error' ? addErr.codeName : addErr.type}`,
    );
    // a commit that fails (a flow pointing to a group that does not exist) is answered with an ONF bundle error
    const addXid2 = c.nextXid();
    c.send({
      type: 'bundle_add',
      xid: addXid2,
      bundleId,
      flags: 3,
      message: { ...parseFlow('table=20,priority=5,reg1=1,actions=group:999'), xid: addXid2 },
      properties: Buffer.alloc(0),
    });
    const commit = await c.request({
      type: 'bundle_control',
      xid: c.nextXid(),
      bundleId,
      ctrlType: 'commit_request',
      flags: 3,
      properties: Buffer.alloc(0),
    });
    assert.ok(commit.type === 'error', `commit answered ${commit.type}`);
    assert.equal(commit.experimenter, 0x4f4e4600);
    assert.equal(commit.typeName, 'OFPET_EXPERIMENTER');
    assert.match(commit.codeName ?? '', /^OFPBFC_/);
  });

  it('asynchronous messages: port_status, flow_removed and packet_in', async () => {
    const c = client!;
    await vsctl(['add-port', 'br0', 'ofcp1', '--', 'set', 'interface', 'ofcp1', 'type=internal', 'ofport_request=7']);
    const ps = await c.waitFor('PORT_STATUS for ofcp1', (m) => m.type === 'port_status' && m.port.name === 'ofcp1');
    assert.ok(ps.type === 'port_status' && ps.reason === 0 && ps.port.portNo === 7);

    const fm = { ...parseFlow('table=9,priority=42,cookie=0x77,send_flow_rem,reg3=5,actions=drop'), xid: c.nextXid() };
    c.send(fm);
    c.send({ ...parseFlow('table=9,priority=42,reg3=5', { command: 'delete_strict' }), xid: c.nextXid() });
    const fr = await c.waitFor('FLOW_REMOVED', (m) => m.type === 'flow_removed');
    assert.ok(fr.type === 'flow_removed');
    assert.equal(fr.cookie, 0x77n);
    assert.equal(fr.priority, 42);
    assert.equal(fr.tableId, 9);
    assert.deepEqual(fr.match, [{ field: 'reg3', value: 5 }]);

    const frame = Buffer.from('ffffffffffff02000000000108060001080006040001020000000001c0a80001000000000000c0a80002', 'hex');
    c.send({
      type: 'packet_out',
      xid: c.nextXid(),
      bufferId: OFP_NO_BUFFER,
      inPort: OFPP.CONTROLLER,
      actions: [{ type: 'output', port: OFPP.CONTROLLER, maxLen: 0xffff }],
      data: frame,
    });
    const pi = await c.waitFor('PACKET_IN', (m) => m.type === 'packet_in');
    assert.ok(pi.type === 'packet_in');
    assert.deepEqual(pi.data, frame);
    assert.ok(pi.match.some((e) => e.field === 'in_port' && e.value === OFPP.CONTROLLER));
  });

  it('every message OVS sent decoded and re-encoded to the same bytes', () => {
    assert.deepEqual(client!.problems, []);
    const kinds = new Set(client!.received.map((r) => r.msg.type));
    for (const k of [
      'hello',
      'features_reply',
      'get_config_reply',
      'role_reply',
      'multipart_reply',
      'error',
      'bundle_control',
      'port_status',
      'flow_removed',
      'packet_in',
    ])
      assert.ok(kinds.has(k as never), `received a ${k}`);
  });
});

function writeTemp(lines: string[]): string {
  const file = `${DIR}/flows-subset.txt`;
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}
