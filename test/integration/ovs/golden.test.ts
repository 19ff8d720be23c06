/**
 * Golden wire test against the reference encoder: every flow, group and meter of the fixtures in
 * test/fixtures/openflow/ is sent by the real `ovs-ofctl -O OpenFlow13` to a recording fake switch,
 * and the captured bytes must equal (xid aside) both our encoder's bytes for the parsed line and
 * the stored golden fixture (*.golden.hex, which the unit suite checks without ovs-ofctl).
 * Decoding the captured bytes, printing them as text and parsing that again must give the same
 * bytes. Set NETLOOM_UPDATE_GOLDEN=1 to rewrite the .golden.hex fixtures from ovs-ofctl.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../../lib/exec';
import { decodeMessage, encodeMessage } from '../../../ovs/openflow/codec';
import type { OfMessage } from '../../../ovs/openflow/messages';
import { captureOfctl, withoutXid } from '../../support/ofctl-capture';
import { formatFlowMod, parseFlow } from '../../../tools/openflow-text/flow-text';
import { formatGroup, formatMeter, parseGroup, parseMeter } from '../../../tools/openflow-text/group-meter-text';
import { parseOfctlCommand } from '../../../tools/openflow-text/commands-text';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/openflow');
const UPDATE = process.env.NETLOOM_UPDATE_GOLDEN === '1';

function lines(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

function readGolden(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function ofType(msgs: Buffer[], type: number): Buffer[] {
  return msgs.filter((m) => m[1] === type);
}

function check(
  kind: string,
  textLines: string[],
  captured: Buffer[],
  golden: string[],
  parse: (l: string) => OfMessage,
  print: (m: OfMessage) => string,
): void {
  assert.equal(captured.length, textLines.length, `ovs-ofctl sent ${captured.length} ${kind} messages for ${textLines.length} lines`);
  const failures: string[] = [];
  textLines.forEach((line, i) => {
    const ref = withoutXid(captured[i]!);
    const ours = encodeMessage(parse(line));
    if (!ours.equals(ref))
      failures.push(`${kind} line ${i + 1} '${line}':\n  ovs-ofctl ${ref.toString('hex')}\n  ours      ${ours.toString('hex')}`);
    if (!UPDATE && golden[i] !== ref.toString('hex'))
      failures.push(`${kind} line ${i + 1}: golden fixture differs from what ovs-ofctl sends now`);
    const text = print(decodeMessage(ref));
    const again = encodeMessage(parse(text));
    if (!again.equals(ref)) failures.push(`${kind} line ${i + 1}: printed as '${text}', which encodes differently`);
  });
  assert.deepEqual(failures, []);
}

describe('golden OpenFlow 1.3 wire bytes vs ovs-ofctl', function () {
  this.timeout(60_000);

  it('flows.txt: every flow_mod equals ovs-ofctl add-flows bytes, and the golden fixture', async () => {
    const textLines = lines('flows.txt');
    assert.ok(textLines.length >= 200, 'the corpus has at least 200 flows');
    const captured = ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-flows', 'TARGET', path.join(FIXTURES, 'flows.txt')]), 14);
    if (UPDATE)
      writeFileSync(path.join(FIXTURES, 'flows.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check(
      'flow',
      textLines,
      captured,
      readGolden('flows.golden.hex'),
      (l) => parseFlow(l),
      (m) => formatFlowMod(m as never),
    );
  });

  it('flows-random.txt: 498 generated flows equal ovs-ofctl add-flows bytes', async () => {
    const textLines = lines('flows-random.txt');
    const captured = ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-flows', 'TARGET', path.join(FIXTURES, 'flows-random.txt')]), 14);
    if (UPDATE)
      writeFileSync(path.join(FIXTURES, 'flows-random.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check(
      'random flow',
      textLines,
      captured,
      readGolden('flows-random.golden.hex'),
      (l) => parseFlow(l),
      (m) => formatFlowMod(m as never),
    );
  });

  it('groups.txt: every group_mod equals ovs-ofctl add-groups bytes', async () => {
    const textLines = lines('groups.txt');
    const captured = ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-groups', 'TARGET', path.join(FIXTURES, 'groups.txt')]), 15);
    if (UPDATE)
      writeFileSync(path.join(FIXTURES, 'groups.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check(
      'group',
      textLines,
      captured,
      readGolden('groups.golden.hex'),
      (l) => parseGroup(l),
      (m) => formatGroup(m as never),
    );
  });

  it('meters.txt: every meter_mod equals ovs-ofctl add-meter bytes', async () => {
    const textLines = lines('meters.txt');
    const captured: Buffer[] = [];
    for (const l of textLines) captured.push(...ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-meter', 'TARGET', l]), 29));
    if (UPDATE)
      writeFileSync(path.join(FIXTURES, 'meters.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check(
      'meter',
      textLines,
      captured,
      readGolden('meters.golden.hex'),
      (l) => parseMeter(l),
      (m) => formatMeter(m as never),
    );
  });

  it('commands.txt: mod-flows, del-flows (--strict), mod-group, del-groups, mod-meter, del-meter bytes', async () => {
    const cases = lines('commands.txt').map((l) => l.split('\t') as [string, string]);
    const captured: Buffer[] = [];
    for (const [cmd, arg] of cases) {
      const msgs = await captureOfctl(['-O', 'OpenFlow13', ...cmd.split(' '), 'TARGET', arg]);
      const mods = msgs.filter((m) => m[1] === 14 || m[1] === 15 || m[1] === 29);
      assert.equal(mods.length, 1, `${cmd} ${arg} sent one modification`);
      captured.push(mods[0]!);
    }
    if (UPDATE)
      writeFileSync(path.join(FIXTURES, 'commands.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    const golden = readGolden('commands.golden.hex');
    cases.forEach(([cmd, arg], i) => {
      const ref = withoutXid(captured[i]!);
      assert.equal(encodeMessage(parseOfctlCommand(cmd, arg)).toString('hex'), ref.toString('hex'), `${cmd} ${arg}`);
      assert.equal(golden[i], ref.toString('hex'), `golden fixture of ${cmd} ${arg}`);
    });
  });

  it('ovs-ofctl ofp-print decodes every kind of message we encode, without complaint', async () => {
    const fm = parseFlow(lines('flows.txt')[0]!);
    const port = {
      portNo: 7,
      hwAddr: '02:00:00:00:00:07',
      name: 'p7',
      config: 0,
      state: 4,
      curr: 0x840,
      advertised: 0,
      supported: 0,
      peer: 0,
      currSpeed: 10_000_000,
      maxSpeed: 0,
    };
    const any = { tableId: 255, outPort: 0xffffffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n };
    const cases: [string, OfMessage][] = [
      ['OFPT_HELLO', { type: 'hello', xid: 1, versions: [1, 4] }],
      ['OFPT_ERROR', { type: 'error', xid: 2, errType: 2, code: 4, data: Buffer.alloc(0) }],
      ['OFPT_ERROR', { type: 'error', xid: 2, errType: 0xffff, code: 2314, experimenter: 0x4f4e4600, data: Buffer.alloc(0) }],
      ['OFPT_ECHO_REQUEST', { type: 'echo_request', xid: 3, data: Buffer.from('hi') }],
      [
        'OFPT_FEATURES_REPLY',
        { type: 'features_reply', xid: 3, datapathId: 0xabn, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0x4f },
      ],
      ['OFPT_GET_CONFIG_REPLY', { type: 'get_config_reply', xid: 4, flags: 0, missSendLen: 128 }],
      ['OFPT_SET_CONFIG', { type: 'set_config', xid: 4, flags: 0, missSendLen: 128 }],
      [
        'OFPT_PACKET_IN',
        {
          type: 'packet_in',
          xid: 5,
          bufferId: 0xffffffff,
          totalLen: 60,
          reason: 1,
          tableId: 3,
          cookie: 0x10n,
          match: [
            { field: 'in_port', value: 1 },
            { field: 'reg0', value: 5 },
          ],
          data: Buffer.alloc(60, 1),
        },
      ],
      [
        'OFPT_PACKET_OUT',
        {
          type: 'packet_out',
          xid: 6,
          bufferId: 0xffffffff,
          inPort: 0xfffffffd,
          actions: [{ type: 'output', port: 1, maxLen: 0 }],
          data: Buffer.alloc(60, 2),
        },
      ],
      [
        'OFPT_FLOW_REMOVED',
        {
          type: 'flow_removed',
          xid: 7,
          cookie: 5n,
          priority: 10,
          reason: 2,
          tableId: 1,
          durationSec: 3,
          durationNsec: 4,
          idleTimeout: 5,
          hardTimeout: 6,
          packetCount: 7n,
          byteCount: 8n,
          match: fm.match,
        },
      ],
      ['OFPT_PORT_STATUS', { type: 'port_status', xid: 8, reason: 0, port }],
      ['OFPT_FLOW_MOD', { ...fm, xid: 9 }],
      [
        'OFPT_GROUP_MOD',
        {
          type: 'group_mod',
          xid: 9,
          command: 'add',
          groupType: 'select',
          groupId: 3,
          buckets: [{ weight: 5, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: [{ type: 'output', port: 2, maxLen: 0 }] }],
        },
      ],
      [
        'OFPT_METER_MOD',
        {
          type: 'meter_mod',
          xid: 10,
          command: 'add',
          flags: 5,
          meterId: 2,
          bands: [
            { type: 'drop', rate: 100, burstSize: 10 },
            { type: 'dscp_remark', rate: 50, burstSize: 5, precLevel: 1 },
          ],
        },
      ],
      [
        'OFPST_FLOW request',
        { type: 'multipart_request', xid: 11, flags: 0, body: { kind: 'flow', ...any, match: [{ field: 'reg1', value: 1 }] } },
      ],
      ['OFPST_AGGREGATE request', { type: 'multipart_request', xid: 11, flags: 0, body: { kind: 'aggregate', ...any, match: [] } }],
      ['OFPST_PORT request', { type: 'multipart_request', xid: 11, flags: 0, body: { kind: 'port_stats', portNo: 0xffffffff } }],
      ['OFPST_METER_CONFIG request', { type: 'multipart_request', xid: 11, flags: 0, body: { kind: 'meter_config', meterId: 0xffffffff } }],
      [
        'OFPST_DESC reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: { kind: 'desc', mfrDesc: 'Nicira, Inc.', hwDesc: 'Open vSwitch', swDesc: '3.1.0', serialNum: 'None', dpDesc: 'br0' },
        },
      ],
      [
        'OFPST_FLOW reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: {
            kind: 'flow',
            entries: [
              {
                tableId: 1,
                durationSec: 1,
                durationNsec: 2,
                priority: 100,
                idleTimeout: 0,
                hardTimeout: 0,
                flags: 1,
                cookie: 0x10n,
                packetCount: 3n,
                byteCount: 4n,
                match: fm.match,
                instructions: fm.instructions,
              },
            ],
          },
        },
      ],
      [
        'OFPST_AGGREGATE reply',
        { type: 'multipart_reply', xid: 12, flags: 0, body: { kind: 'aggregate', packetCount: 1n, byteCount: 2n, flowCount: 3 } },
      ],
      [
        'OFPST_TABLE reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: { kind: 'table', entries: [{ tableId: 0, activeCount: 3, lookupCount: 10n, matchedCount: 5n }] },
        },
      ],
      [
        'OFPST_PORT reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: {
            kind: 'port_stats',
            entries: [
              {
                portNo: 1,
                rxPackets: 1n,
                txPackets: 2n,
                rxBytes: 3n,
                txBytes: 4n,
                rxDropped: 0n,
                txDropped: 0n,
                rxErrors: 0n,
                txErrors: 0n,
                rxFrameErr: 0n,
                rxOverErr: 0n,
                rxCrcErr: 0n,
                collisions: 0n,
                durationSec: 5,
                durationNsec: 6,
              },
            ],
          },
        },
      ],
      ['OFPST_PORT_DESC reply', { type: 'multipart_reply', xid: 12, flags: 0, body: { kind: 'port_desc', ports: [port] } }],
      [
        'OFPST_GROUP_DESC reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: {
            kind: 'group_desc',
            entries: [
              {
                groupType: 'ff',
                groupId: 4,
                buckets: [{ weight: 0, watchPort: 1, watchGroup: 0xffffffff, actions: [{ type: 'output', port: 1, maxLen: 0 }] }],
              },
            ],
          },
        },
      ],
      [
        'OFPST_METER reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: {
            kind: 'meter_stats',
            entries: [
              {
                meterId: 1,
                flowCount: 2,
                packetInCount: 3n,
                byteInCount: 4n,
                durationSec: 5,
                durationNsec: 6,
                bands: [{ packetBandCount: 7n, byteBandCount: 8n }],
              },
            ],
          },
        },
      ],
      [
        'OFPST_METER_CONFIG reply',
        {
          type: 'multipart_reply',
          xid: 12,
          flags: 0,
          body: { kind: 'meter_config', entries: [{ flags: 5, meterId: 1, bands: [{ type: 'drop', rate: 100, burstSize: 10 }] }] },
        },
      ],
      ['OFPT_ROLE_REQUEST', { type: 'role_request', xid: 13, role: 'master', generationId: 5n }],
      ['OFPT_ROLE_REPLY', { type: 'role_reply', xid: 13, role: 'slave', generationId: 5n }],
      ['OFPT_BARRIER_REPLY', { type: 'barrier_reply', xid: 13 }],
      [
        'ONFT_BUNDLE_CONTROL',
        { type: 'bundle_control', xid: 14, bundleId: 1, ctrlType: 'open_reply', flags: 1, properties: Buffer.alloc(0) },
      ],
      [
        'ONFT_BUNDLE_ADD_MESSAGE',
        { type: 'bundle_add', xid: 15, bundleId: 1, flags: 1, message: { ...fm, xid: 15 }, properties: Buffer.alloc(0) },
      ],
    ];
    const problems: string[] = [];
    for (const [name, m] of cases) {
      const r = await run('ovs-ofctl', ['ofp-print', encodeMessage(m).toString('hex')], { allowFailure: true });
      const first = r.stdout.split('\n')[0] ?? '';
      if (r.code !== 0 || !first.startsWith(`${name} (OF1.3)`) || /\*\*\*|decode error/.test(r.stdout) || /WARN|ERR/.test(r.stderr)) {
        problems.push(`${name}: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('--bundle: ONF bundle open/add/commit as ovs-ofctl sends them over OpenFlow 1.3', async () => {
    const flows = lines('flows.txt').slice(0, 5);
    mkdirSync('/tmp/nl-ofcodec', { recursive: true });
    const file = '/tmp/nl-ofcodec/bundle-flows.txt';
    writeFileSync(file, flows.join('\n') + '\n');
    const msgs = await captureOfctl(['-O', 'OpenFlow13', '--bundle', 'add-flows', 'TARGET', file]).finally(() =>
      rmSync(file, { force: true }),
    );
    const decoded = msgs.filter((m) => m[1] === 4).map((m) => ({ raw: m, msg: decodeMessage(m) }));
    const kinds = decoded.map((d) => (d.msg.type === 'bundle_control' ? d.msg.ctrlType : d.msg.type));
    assert.deepEqual(kinds, ['open_request', 'bundle_add', 'bundle_add', 'bundle_add', 'bundle_add', 'bundle_add', 'commit_request']);
    for (const d of decoded) assert.ok(encodeMessage(d.msg).equals(d.raw), `re-encoding ${d.msg.type} gives the same bytes`);
    const adds = decoded.filter((d) => d.msg.type === 'bundle_add');
    adds.forEach((d, i) => {
      const m = d.msg;
      assert.ok(m.type === 'bundle_add');
      assert.equal(m.flags, 3, 'atomic|ordered');
      const ours = encodeMessage({
        type: 'bundle_add',
        xid: m.xid,
        bundleId: m.bundleId,
        flags: 3,
        message: { ...parseFlow(flows[i]!), xid: m.xid },
        properties: Buffer.alloc(0),
      });
      assert.ok(ours.equals(d.raw), `bundle_add ${i} equals ovs-ofctl's bytes`);
    });
  });
});
