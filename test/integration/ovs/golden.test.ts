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
import { decodeMessage, encodeMessage } from '../../../ovs/openflow/codec';
import type { OfMessage } from '../../../ovs/openflow/messages';
import { captureOfctl, withoutXid } from '../../../ovs/openflow/ofctl-capture';
import { formatFlowMod, parseFlow } from '../../../ovs/openflow/text/flow-text';
import { formatGroup, formatMeter, parseGroup, parseMeter } from '../../../ovs/openflow/text/group-meter-text';
import { parseOfctlCommand } from '../../../ovs/openflow/text/commands-text';

const FIXTURES = path.resolve(__dirname, '../../../../test/fixtures/openflow');
const UPDATE = process.env.NETLOOM_UPDATE_GOLDEN === '1';

function lines(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'));
}

function readGolden(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8').split('\n').filter((l) => l !== '');
}

function ofType(msgs: Buffer[], type: number): Buffer[] {
  return msgs.filter((m) => m[1] === type);
}

function check(kind: string, textLines: string[], captured: Buffer[], golden: string[], parse: (l: string) => OfMessage, print: (m: OfMessage) => string): void {
  assert.equal(captured.length, textLines.length, `ovs-ofctl sent ${captured.length} ${kind} messages for ${textLines.length} lines`);
  const failures: string[] = [];
  textLines.forEach((line, i) => {
    const ref = withoutXid(captured[i]!);
    const ours = encodeMessage(parse(line));
    if (!ours.equals(ref)) failures.push(`${kind} line ${i + 1} '${line}':\n  ovs-ofctl ${ref.toString('hex')}\n  ours      ${ours.toString('hex')}`);
    if (!UPDATE && golden[i] !== ref.toString('hex')) failures.push(`${kind} line ${i + 1}: golden fixture differs from what ovs-ofctl sends now`);
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
    if (UPDATE) writeFileSync(path.join(FIXTURES, 'flows.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check('flow', textLines, captured, readGolden('flows.golden.hex'), (l) => parseFlow(l), (m) => formatFlowMod(m as never));
  });

  it('flows-random.txt: 498 generated flows equal ovs-ofctl add-flows bytes', async () => {
    const textLines = lines('flows-random.txt');
    const captured = ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-flows', 'TARGET', path.join(FIXTURES, 'flows-random.txt')]), 14);
    if (UPDATE) writeFileSync(path.join(FIXTURES, 'flows-random.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check('random flow', textLines, captured, readGolden('flows-random.golden.hex'), (l) => parseFlow(l), (m) => formatFlowMod(m as never));
  });

  it('groups.txt: every group_mod equals ovs-ofctl add-groups bytes', async () => {
    const textLines = lines('groups.txt');
    const captured = ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-groups', 'TARGET', path.join(FIXTURES, 'groups.txt')]), 15);
    if (UPDATE) writeFileSync(path.join(FIXTURES, 'groups.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check('group', textLines, captured, readGolden('groups.golden.hex'), (l) => parseGroup(l), (m) => formatGroup(m as never));
  });

  it('meters.txt: every meter_mod equals ovs-ofctl add-meter bytes', async () => {
    const textLines = lines('meters.txt');
    const captured: Buffer[] = [];
    for (const l of textLines) captured.push(...ofType(await captureOfctl(['-O', 'OpenFlow13', 'add-meter', 'TARGET', l]), 29));
    if (UPDATE) writeFileSync(path.join(FIXTURES, 'meters.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    check('meter', textLines, captured, readGolden('meters.golden.hex'), (l) => parseMeter(l), (m) => formatMeter(m as never));
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
    if (UPDATE) writeFileSync(path.join(FIXTURES, 'commands.golden.hex'), captured.map((m) => withoutXid(m).toString('hex')).join('\n') + '\n');
    const golden = readGolden('commands.golden.hex');
    cases.forEach(([cmd, arg], i) => {
      const ref = withoutXid(captured[i]!);
      assert.equal(encodeMessage(parseOfctlCommand(cmd, arg)).toString('hex'), ref.toString('hex'), `${cmd} ${arg}`);
      assert.equal(golden[i], ref.toString('hex'), `golden fixture of ${cmd} ${arg}`);
    });
  });

  it('--bundle: ONF bundle open/add/commit as ovs-ofctl sends them over OpenFlow 1.3', async () => {
    const flows = lines('flows.txt').slice(0, 5);
    mkdirSync('/tmp/nl-ofcodec', { recursive: true });
    const file = '/tmp/nl-ofcodec/bundle-flows.txt';
    writeFileSync(file, flows.join('\n') + '\n');
    const msgs = await captureOfctl(['-O', 'OpenFlow13', '--bundle', 'add-flows', 'TARGET', file]).finally(() => rmSync(file, { force: true }));
    const decoded = msgs.filter((m) => m[1] === 4).map((m) => ({ raw: m, msg: decodeMessage(m) }));
    const kinds = decoded.map((d) => (d.msg.type === 'bundle_control' ? d.msg.ctrlType : d.msg.type));
    assert.deepEqual(kinds, ['open_request', 'bundle_add', 'bundle_add', 'bundle_add', 'bundle_add', 'bundle_add', 'commit_request']);
    for (const d of decoded) assert.ok(encodeMessage(d.msg).equals(d.raw), `re-encoding ${d.msg.type} gives the same bytes`);
    const adds = decoded.filter((d) => d.msg.type === 'bundle_add');
    adds.forEach((d, i) => {
      const m = d.msg;
      assert.ok(m.type === 'bundle_add');
      assert.equal(m.flags, 3, 'atomic|ordered');
      const ours = encodeMessage({ type: 'bundle_add', xid: m.xid, bundleId: m.bundleId, flags: 3, message: { ...parseFlow(flows[i]!), xid: m.xid }, properties: Buffer.alloc(0) });
      assert.ok(ours.equals(d.raw), `bundle_add ${i} equals ovs-ofctl's bytes`);
    });
  });
});
