/**
 * netctl's pure pieces: the Go-tabwriter-compatible column writer, Go-style JSON, the Contiv
 * request bodies (against the reference's examples), and the Go-style argv rewriting.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { tabwrite, toJson, goValue } from '../../../netctl/format';
import { globalBody, groupBody, networkBody, tenantBody, bgpBody, aciGwBody } from '../../../netctl/bodies';
import { normalizeArgv } from '../../../netctl/argv';
import { buildProgram } from '../../../netctl/main';
import { bandwidthCell } from '../../../netctl/commands/netprofile';
import { orderRules } from '../../../netctl/commands/policy';

describe('netctl pure pieces', () => {
  describe('tabwrite (Go text/tabwriter, minwidth 0, padding 2, space padding)', () => {
    it('pads every cell of a column block to the widest cell + 2; trailing text is not a column', () => {
      assert.equal(tabwrite('a\tbb\tc\nccc\td\te\n'), 'a    bb  c\nccc  d   e\n');
    });
    it('a line with fewer cells ends the column block', () => {
      assert.equal(tabwrite('aaaa\tb\tc\nx\n1\t2\t3\n'), 'aaaa  b  c\nx\n1  2  3\n');
      assert.equal(tabwrite('n\tt\tbw\td\tb\nlong-name\tt\t\t0\n'), 'n          t  bw  d  b\nlong-name  t      0\n');
    });
    it('empty cells are padded, so rows may end in spaces', () => {
      assert.equal(tabwrite('Name\t\n------\t\nt1\t\n'), 'Name    \n------  \nt1      \n');
    });
    it('cuts a cell of a table line at maxCell characters (60 by default), ending it in …; free text lines stay whole', () => {
      assert.equal(tabwrite(`${'a'.repeat(70)}\tb\nc\td\n`), `${'a'.repeat(59)}…  b\n${'c'.padEnd(62)}d\n`);
      assert.equal(tabwrite('abcdef\tx\n', { minwidth: 0, padding: 2, maxCell: 4 }), 'abc…  x\n');
      assert.equal(tabwrite('é'.repeat(61) + '\tx\n'), 'é'.repeat(59) + '…  x\n');
      assert.equal(tabwrite('z'.repeat(100)), 'z'.repeat(100));
    });
    it('counts characters, not bytes', () => {
      assert.equal(tabwrite('é\tx\nab\ty\n'), 'é   x\nab  y\n');
    });
    it('without a final newline the last line stays unterminated', () => {
      assert.equal(tabwrite('a\tb'), 'a  b');
      assert.equal(tabwrite(''), '');
    });
    it('property: every line keeps its cells in order and columns line up', () => {
      fc.assert(
        fc.property(
          fc.array(fc.array(fc.stringMatching(/^[a-z0-9]{0,6}$/), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 6 }),
          (rows) => {
            const out = tabwrite(rows.map((r) => r.join('\t') + '\n').join(''));
            const lines = out.split('\n').slice(0, -1);
            assert.equal(lines.length, rows.length);
            const w0 = Math.max(...rows.map((r) => r[0]!.length)) + 2;
            const w1 = Math.max(...rows.map((r) => r[1]!.length)) + 2;
            lines.forEach((l, i) => {
              assert.equal(l.slice(0, w0).trimEnd(), rows[i]![0]);
              assert.equal(l.slice(w0, w0 + w1).trimEnd(), rows[i]![1]);
              assert.equal(l.slice(w0 + w1), rows[i]![2]);
            });
          },
        ),
      );
    });
  });

  it('toJson indents by two spaces and escapes <, >, & like Go', () => {
    assert.equal(toJson({ a: [1, 'x<y>&z'], b: {} }), '{\n  "a": [\n    1,\n    "x\\u003cy\\u003e\\u0026z"\n  ],\n  "b": {}\n}\n');
    assert.equal(toJson([]), '[]\n');
    assert.equal(goValue(['a', 'b']), '[a b]');
    assert.equal(goValue(undefined), '');
  });

  it("bodies match the reference's examples byte for byte", () => {
    assert.equal(JSON.stringify(tenantBody('t1')), '{"tenantName":"t1","link-sets":{}}');
    assert.equal(
      JSON.stringify(
        networkBody({
          tenantName: 't1',
          networkName: 'n',
          nwType: 'data',
          encap: 'vxlan',
          pktTag: 100,
          subnet: '10.2.1.0/24',
          gateway: '10.2.1.1',
          ipv6Subnet: '',
          ipv6Gateway: '',
          cfgdTag: '',
        }),
      ),
      '{"encap":"vxlan","gateway":"10.2.1.1","networkName":"n","nwType":"data","pktTag":100,"subnet":"10.2.1.0/24","tenantName":"t1","link-sets":{},"links":{"Tenant":{}}}',
    );
    const g = groupBody({
      tenantName: 't',
      networkName: 'n',
      groupName: 'g',
      netProfile: '',
      ipPool: '',
      policies: [],
      extContractsGrps: [],
      cfgdTag: '',
    });
    assert.deepEqual(Object.keys(g), ['groupName', 'networkName', 'tenantName', 'link-sets', 'links']);
    assert.equal(
      JSON.stringify(bgpBody({ hostname: 'h', routerip: '1.1.1.1/24', as: '1', neighbor: '1.1.1.2', neighborAs: '2' })),
      '{"as":"1","hostname":"h","neighbor":"1.1.1.2","neighbor-as":"2","routerip":"1.1.1.1/24"}',
    );
  });

  it('globalBody keeps Contiv field order, drops empty values, keeps extra server fields', () => {
    assert.deepEqual(Object.keys(globalBody({ vxlans: '1-2', name: 'global', extra: 1, key: 'global' }, { arpMode: 'flood' })), [
      'key',
      'arpMode',
      'name',
      'vxlans',
      'extra',
    ]);
    assert.deepEqual(globalBody({ fwdMode: 'bridge' }, { fwdMode: undefined }), { fwdMode: 'bridge' });
    assert.deepEqual(
      aciGwBody(undefined, { enforcePolicies: 'yes', includeCommonTenant: 'no', nodeBindings: '', pathBindings: '', physicalDomain: '' }),
      {
        enforcePolicies: 'yes',
        includeCommonTenant: 'no',
        name: 'aciGw',
      },
    );
  });

  it('bandwidth column and rule order as Contiv computed them', () => {
    assert.equal(bandwidthCell('10mbps'), '10Mbps');
    assert.equal(bandwidthCell('1gbps'), '1Gbps');
    assert.equal(bandwidthCell('500 kbps'), '500Kbps');
    const rules = [
      { tenantName: 't', policyName: 'p', ruleId: 'a', priority: 5 },
      { tenantName: 't', policyName: 'p', ruleId: 'b', priority: 1 },
      { tenantName: 't', policyName: 'q', ruleId: 'c', priority: 1 },
      { tenantName: 't', policyName: 'p', ruleId: 'd', priority: 5 },
    ];
    assert.deepEqual(
      orderRules(rules, 't', 'p').map((r) => r['ruleId']),
      ['b', 'a', 'd'],
    );
  });

  describe('normalizeArgv (Go flag spellings)', () => {
    const program = buildProgram(
      { io: { stdout: () => undefined, stderr: () => undefined, env: {} }, out: () => undefined },
      { out: () => undefined, err: () => undefined },
    );
    const norm = (...a: string[]): string[] => normalizeArgv(program, a);

    it('multi-letter short names and second long names of the command', () => {
      assert.deepEqual(norm('net', 'create', '-s6', 'x', '-g6=y', '--nw-tag', 'z', 'n'), [
        'net',
        'create',
        '--subnetv6',
        'x',
        '--gatewayv6=y',
        '--tag',
        'z',
        'n',
      ]);
      assert.deepEqual(norm('group', 'create', '-epg-tag', 'e', 'n', 'g'), ['group', 'create', '--tag', 'e', 'n', 'g']);
      assert.deepEqual(norm('service', 'create', '-ip', '1.2.3.4', 's'), ['service', 'create', '--preferred-ip', '1.2.3.4', 's']);
    });
    it('single-dash long names and double-dash short names', () => {
      assert.deepEqual(norm('-netmaster', 'http://x:1', 'net', 'ls', '-tenant', 't1', '--a'), [
        '--netmaster',
        'http://x:1',
        'net',
        'ls',
        '--tenant',
        't1',
        '-a',
      ]);
      assert.deepEqual(norm('policy', 'rule-add', '--t=t1', 'p', '1'), ['policy', 'rule-add', '-t', 't1', 'p', '1']);
      assert.deepEqual(norm('policy', 'rule-add', '-t=t1', '-P=80', 'p', '1'), ['policy', 'rule-add', '-t', 't1', '-P', '80', 'p', '1']);
    });
    it('leaves other tokens alone, and everything after --', () => {
      assert.deepEqual(norm('net', 'ls', '-s6'), ['net', 'ls', '-s6'], 's6 is only an alias on net create');
      assert.deepEqual(norm('policy', 'rule-add', '-p10', '--', '-tenant'), ['policy', 'rule-add', '-p10', '--', '-tenant']);
    });
  });
});
