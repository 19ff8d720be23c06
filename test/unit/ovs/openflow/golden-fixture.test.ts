/**
 * The encoder against the stored golden bytes (captured from ovs-ofctl by the integration test
 * test/integration/ovs/golden.test.ts): every line of flows/groups/meters.txt parses and encodes
 * to exactly its .golden.hex line (xid 0), and decode → print → parse reproduces the bytes.
 * Runs without ovs-ofctl.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMessage, encodeMessage } from '../../../../ovs/openflow/codec';
import type { OfMessage } from '../../../../ovs/openflow/messages';
import { formatFlowMod, parseFlow } from '../../../../tools/openflow-text/flow-text';
import { formatGroup, formatMeter, parseGroup, parseMeter } from '../../../../tools/openflow-text/group-meter-text';
import { parseOfctlCommand } from '../../../../tools/openflow-text/commands-text';

const FIXTURES = path.resolve(__dirname, '../../../../../test/fixtures/openflow');

function read(file: string, keepComments = false): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && (keepComments || !l.startsWith('#')));
}

function checkCorpus(
  kind: string,
  textFile: string,
  hexFile: string,
  parse: (l: string) => OfMessage,
  print: (m: OfMessage) => string,
): void {
  const textLines = read(textFile);
  const golden = read(hexFile);
  assert.equal(golden.length, textLines.length, `${hexFile} has one line per ${kind}`);
  const failures: string[] = [];
  textLines.forEach((line, i) => {
    const want = Buffer.from(golden[i]!, 'hex');
    let ours: Buffer;
    try {
      ours = encodeMessage(parse(line));
    } catch (e) {
      failures.push(`${kind} ${i + 1} '${line}': ${(e as Error).message}`);
      return;
    }
    if (!ours.equals(want))
      failures.push(`${kind} ${i + 1} '${line}':\n  golden ${want.toString('hex')}\n  ours   ${ours.toString('hex')}`);
    const decoded = decodeMessage(want);
    if (!encodeMessage(decoded).equals(want)) failures.push(`${kind} ${i + 1}: decode/encode of the golden bytes differs`);
    const text = print(decoded);
    if (!encodeMessage(parse(text)).equals(want)) failures.push(`${kind} ${i + 1}: printed '${text}' encodes differently`);
  });
  assert.deepEqual(failures, []);
}

describe('openflow golden fixtures (bytes captured from ovs-ofctl)', () => {
  it('flows.txt: at least 200 flows, each encoding to its golden bytes', () => {
    assert.ok(read('flows.txt').length >= 200);
    checkCorpus(
      'flow',
      'flows.txt',
      'flows.golden.hex',
      (l) => parseFlow(l),
      (m) => formatFlowMod(m as never),
    );
  });

  it('flows-random.txt: generated flows encode to their golden bytes', () => {
    checkCorpus(
      'random flow',
      'flows-random.txt',
      'flows-random.golden.hex',
      (l) => parseFlow(l),
      (m) => formatFlowMod(m as never),
    );
  });

  it('groups.txt: each group encodes to its golden bytes', () => {
    checkCorpus(
      'group',
      'groups.txt',
      'groups.golden.hex',
      (l) => parseGroup(l),
      (m) => formatGroup(m as never),
    );
  });

  it('commands.txt: mod/del commands encode to their golden bytes', () => {
    const cases = read('commands.txt').map((l) => l.split('\t') as [string, string]);
    const golden = read('commands.golden.hex');
    assert.equal(golden.length, cases.length);
    cases.forEach(([cmd, arg], i) => assert.equal(encodeMessage(parseOfctlCommand(cmd, arg)).toString('hex'), golden[i], `${cmd} ${arg}`));
  });

  it('meters.txt: each meter encodes to its golden bytes', () => {
    checkCorpus(
      'meter',
      'meters.txt',
      'meters.golden.hex',
      (l) => parseMeter(l),
      (m) => formatMeter(m as never),
    );
  });
});
