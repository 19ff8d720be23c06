/**
 * `--help` on every command of the tree exits 0 with that command's usage on stdout; a command
 * group without a subcommand shows its help; `netctl completion bash` is a valid bash script that
 * mentions every command, alias and flag and actually completes when bash runs it.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../../netctl/main';
import { commandNodes } from '../../../netctl/completion';
import { runCli } from './run-cli';

function tree(): Command {
  return buildProgram(
    { io: { stdout: () => undefined, stderr: () => undefined, env: {} }, out: () => undefined },
    { out: () => undefined, err: () => undefined },
  );
}

const CONTIV_COMMANDS = [
  'version',
  'global info',
  'global inspect',
  'global set',
  'tenant create',
  'tenant rm',
  'tenant ls',
  'tenant inspect',
  'network create',
  'network rm',
  'network ls',
  'network inspect',
  'group create',
  'group rm',
  'group ls',
  'group inspect',
  'policy create',
  'policy rm',
  'policy ls',
  'policy inspect',
  'policy rule-add',
  'policy rule-rm',
  'policy rule-ls',
  'netprofile create',
  'netprofile rm',
  'netprofile ls',
  'netprofile inspect',
  'bgp create',
  'bgp rm',
  'bgp ls',
  'bgp inspect',
  'app-profile create',
  'app-profile update',
  'app-profile rm',
  'app-profile ls',
  'app-profile group-ls',
  'external-contracts create',
  'external-contracts rm',
  'external-contracts ls',
  'aci-gw set',
  'aci-gw inspect',
  'service create',
  'service rm',
  'service ls',
  'endpoint inspect',
  'endpoint ls',
  'consistency',
  'completion',
];

describe('netctl help and completion', () => {
  const nodes = commandNodes(tree());

  it('has every Contiv command (and endpoint ls, consistency, completion)', () => {
    const paths = new Set(nodes.map((n) => n.path));
    for (const c of CONTIV_COMMANDS) assert.ok(paths.has(c), `missing command: ${c}`);
  });

  it('--help exits 0 and prints the usage of every command and group', async function () {
    this.timeout(20_000);
    for (const n of nodes) {
      const argv = n.path === '' ? ['--help'] : [...n.path.split(' '), '--help'];
      const r = await runCli(argv);
      assert.equal(r.code, 0, `netctl ${argv.join(' ')}`);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^Usage: netctl${n.path === '' ? '' : ' ' + n.path}(\\|\\S+)? `), argv.join(' '));
    }
    const h = await runCli(['net', 'create', '-h']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /-s, --subnet <cidr>/);
    assert.match(h.stdout, /--subnetv6 <cidr>\s+IPv6 Subnet CIDR \(also -s6\)/);
  });

  it('a group without subcommand prints its help on stdout and exits 0, like Contiv', async () => {
    const r = await runCli(['policy']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: netctl policy /);
    assert.match(r.stdout, /rule-add/);
    const top = await runCli([]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /Commands:/);
  });

  it('completion bash mentions every command, alias and flag', async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0);
    const script = r.stdout;
    for (const n of nodes) {
      for (const s of n.subcommands)
        for (const name of s.names) assert.ok(script.includes(`"${n.path}:${name}")`), `no transition for ${n.path} ${name}`);
      for (const f of n.flags) assert.ok(script.includes(f), `no flag ${f}`);
    }
    for (const word of [
      'network',
      'net',
      'endpoint',
      'ep',
      'rule-add',
      'group-ls',
      '--subnetv6',
      '--from-ip-address',
      '--neighbor-as',
      '--netmaster',
    ])
      assert.ok(script.includes(word), word);
    assert.ok(script.includes('complete -F _netctl netctl'));
  });

  it('the completion script is valid bash and completes commands and flags', async function () {
    this.timeout(10_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'netctl-compl-'));
    try {
      const file = path.join(dir, 'netctl.bash');
      writeFileSync(file, (await runCli(['completion', 'bash'])).stdout);
      execFileSync('bash', ['-n', file]);
      const complete = (words: string[]): string => {
        const arr = words.map((w) => `'${w}'`).join(' ');
        return execFileSync(
          'bash',
          ['-c', `source '${file}'; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _netctl; echo "\${COMPREPLY[*]}"`],
          {
            encoding: 'utf8',
            timeout: 5000,
          },
        ).trim();
      };
      assert.equal(complete(['netctl', 'net', 'cr']), 'create');
      assert.deepEqual(complete(['netctl', 'ne']).split(' ').sort(), ['net', 'netprofile', 'network']);
      assert.equal(complete(['netctl', '--netmaster', 'http://x:1', 'policy', 'rule-a']), 'rule-add');
      assert.equal(complete(['netctl', 'net', 'create', '-t', 't1', '--subnetv']), '--subnetv6');
      assert.ok(complete(['netctl', 'policy', 'rule-add', '--']).split(' ').includes('--to-ip-address'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
