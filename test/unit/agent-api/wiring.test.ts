/** The agent API's command-line options: defaults, parsing, and the errors that name the flag. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { Command } from 'commander';
import { addAgentOptions, agentOptionsFrom } from '../../../netmaster/agent/wiring';

function parse(args: string[]) {
  const cmd = addAgentOptions(new Command('netmaster').exitOverride());
  cmd.parse(['node', 'netmaster', ...args]);
  return agentOptionsFrom(cmd.opts(), cmd.getOptionValueSource('grpcListen') === 'default');
}

describe('agent API command-line options', () => {
  it('defaults: 127.0.0.1:9998, lease 10 s, grace 60 s, leader lease 10 s, no TLS', () => {
    assert.deepEqual(parse([]), {
      grpcListen: '127.0.0.1:9998',
      agentLeaseTtlSeconds: 10,
      deadHostGraceMs: 60_000,
      leaderLeaseTtlSeconds: 10,
      bindOptional: true,
    });
  });
  it('reads every option', () => {
    const o = parse(['--grpc-listen', '0.0.0.0:7000', '--agent-lease-ttl', '3', '--dead-host-grace', '1.5', '--leader-lease-ttl', '4']);
    assert.deepEqual(o, { grpcListen: '0.0.0.0:7000', agentLeaseTtlSeconds: 3, deadHostGraceMs: 1500, leaderLeaseTtlSeconds: 4 });
  });
  it('refuses bad values naming the flag', () => {
    assert.throws(() => parse(['--dead-host-grace', 'soon']), /--dead-host-grace/);
    assert.throws(() => parse(['--agent-lease-ttl', '0']), /--agent-lease-ttl/);
    assert.throws(() => parse(['--grpc-listen', 'nowhere']), /--grpc-listen/);
    assert.throws(() => parse(['--grpc-tls-cert', '/x.crt']), /go together/);
    assert.throws(() => parse(['--grpc-client-ca', '/ca.crt']), /--grpc-client-ca/);
    assert.throws(() => parse(['--grpc-require-host-match']), /--grpc-require-host-match needs/);
  });

  it('ACI: --apic-url needs --apic-password-file and an http(s) URL; the password is read from the file', () => {
    assert.throws(
      () => parse(['--apic-url', 'https://apic']),
      (e: Error & { field?: string }) => e.field === '--apic-password-file',
    );
    assert.throws(
      () => parse(['--apic-url', 'apic:443', '--apic-password-file', '/x']),
      (e: Error & { field?: string }) => e.field === '--apic-url',
    );
    const dir = mkdtempSync(join(tmpdir(), 'ac-wiring-'));
    try {
      writeFileSync(join(dir, 'pw'), 'secret\n');
      const o = parse(['--apic-url', 'https://apic', '--apic-user', 'netloom', '--apic-password-file', join(dir, 'pw')]);
      assert.deepEqual(o.apic, { url: 'https://apic', user: 'netloom', password: 'secret' });
      assert.equal(parse([]).apic, undefined, 'no gateway without --apic-url');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ACI: --apic-cert-dn with --apic-key-file (RSA) signs instead; each flag wrong or missing is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ac-wiring-'));
    try {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' });
      writeFileSync(join(dir, 'rsa.key'), rsa);
      writeFileSync(join(dir, 'ec.key'), ec);
      writeFileSync(join(dir, 'pw'), 'secret\n');
      const dn = 'uni/userext/user-netloom/usercert-netloom.crt';
      const base = ['--apic-url', 'https://apic'];
      const o = parse([...base, '--apic-cert-dn', dn, '--apic-key-file', join(dir, 'rsa.key')]);
      assert.ok(o.apic && 'certDn' in o.apic);
      assert.equal(o.apic.certDn, dn);
      assert.equal(o.apic.key.asymmetricKeyType, 'rsa');
      const refused = (args: string[], field: string, text: RegExp) =>
        assert.throws(
          () => parse([...base, ...args]),
          (e: Error & { field?: string }) => e.field === field && text.test(e.message),
        );
      refused(['--apic-cert-dn', dn], '--apic-key-file', /needs --apic-key-file/);
      refused(['--apic-key-file', join(dir, 'rsa.key')], '--apic-cert-dn', /needs --apic-cert-dn/);
      refused(['--apic-cert-dn', 'uni/userext/user-x', '--apic-key-file', join(dir, 'rsa.key')], '--apic-cert-dn', /usercert-CERT/);
      refused(['--apic-cert-dn', dn, '--apic-key-file', join(dir, 'ec.key')], '--apic-key-file', /RSA key, got ec/);
      refused(['--apic-cert-dn', dn, '--apic-key-file', join(dir, 'pw')], '--apic-key-file', /not a PEM private key/);
      refused(
        ['--apic-cert-dn', dn, '--apic-key-file', join(dir, 'rsa.key'), '--apic-password-file', join(dir, 'pw')],
        '--apic-password-file',
        /exclude each other/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
