/**
 * Kubernetes node ports in the host's nftables table (node-ports.ts, nft-render.ts): a NodePort
 * Service's port is DNATed to the host's local providers at random, each at its own target port,
 * with the tenant mark of a published port; with externalTrafficPolicy Cluster (the default) the
 * remote providers get their share through their host at the node port, masqueraded, and what a
 * peer host forwards is served locally only; with Local a host without a local provider drops.
 * Contiv services and ports without a node port get no rule. A host without a gateway of the
 * Service's tenant (netmaster sends every host the Services with a node port) forwards every
 * connection to a provider's host (`hostIp`), masqueraded, or with Local drops; a host with no
 * tenant at all loads the table for its node ports alone.
 */
import { strict as assert } from 'node:assert';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { renderNftTable } from '../../../netplugin/hostnet/nft-render';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import type { ServiceLB } from '../../../netplugin/state/host-state';
import { parseHostState, parseLocalFacts } from '../../../netplugin/state/host-state';
import { ep, input } from './fixture';

function withServices(services: ServiceLB[], vteps = [{ host: 'h2', vtepIp: '192.168.0.2' }]): PipelineInput {
  const base = input({
    endpoints: [
      ep('a1', 'blue:web', 'h1', '10.1.1.10', 1),
      ep('a2', 'blue:web', 'h1', '10.1.1.11', 2),
      ep('a3', 'blue:web', 'h2', '10.1.1.12', 3),
      ep('g2', 'green:web', 'h2', '10.3.1.10', 4),
    ],
  });
  return { ...base, state: { ...base.state, services, vteps } };
}

const WEB: ServiceLB = {
  key: 'kube:default/web',
  tenant: 'blue',
  network: '',
  kube: true,
  ip: '10.96.0.10',
  ports: [
    { name: 'http', port: 80, targetPort: 8080, protocol: 'tcp', nodePort: 30080 },
    { name: 'dns', port: 53, targetPort: 53, protocol: 'udp', nodePort: 0 },
  ],
  providers: [
    { endpointId: 'a1', ip: '10.1.1.10', targetPorts: [8080, 53] },
    { endpointId: 'a2', ip: '10.1.1.11', targetPorts: [9090, 53] },
    { endpointId: 'a3', ip: '10.1.1.12', targetPorts: [8080, 53] },
  ],
};

describe('hostnet: Kubernetes node ports', () => {
  const LOCAL: ServiceLB = { ...WEB, externalTrafficLocal: true };
  const linesOf = (text: string, chain: string) => {
    const body = text.split(`chain ${chain} {`)[1]!.split('\n\t}')[0]!;
    return body
      .split('\n')
      .map((l) => l.trim())
      .slice(2);
  };

  it('externalTrafficPolicy Local: DNATs the node port to the local providers at random, each at its own port, marked as a published port', () => {
    const s = desiredHostNet(withServices([LOCAL]), { addresses: [] });
    assert.deepEqual(s.nodePorts, {
      rules: [
        {
          tenantVrfId: 1,
          protocol: 'tcp',
          nodePort: 30080,
          service: 'kube:default/web:tcp/80',
          backends: [
            { ip: '10.1.1.10', port: 8080 },
            { ip: '10.1.1.11', port: 9090 },
          ],
          remote: [],
        },
      ],
      peers: ['192.168.0.2'],
    });
    const dnat =
      'meta mark set 0x00030001 ct mark set 0x00030001 dnat ip to numgen random mod 2 map { 0 : 10.1.1.10 . 8080, 1 : 10.1.1.11 . 9090 } comment "kube:default/web:tcp/80"';
    const text = renderNftTable(s);
    for (const chain of ['nat-prerouting', 'nat-output'])
      assert.deepEqual(linesOf(text, chain), [
        `ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30080 ${dnat}`,
        `fib daddr type local tcp dport 30080 ${dnat}`,
      ]);
    assert.deepEqual(
      linesOf(text, 'nat-postrouting'),
      linesOf(renderNftTable({ ...s, nodePorts: undefined }), 'nat-postrouting'),
      'no masquerade',
    );
  });

  it('externalTrafficPolicy Local without a local provider: the node port drops', () => {
    const remoteOnly = { ...LOCAL, providers: [WEB.providers[2]!] };
    const s = desiredHostNet(withServices([remoteOnly]), { addresses: [] });
    assert.deepEqual(s.nodePorts?.rules[0]?.backends, []);
    assert.deepEqual(linesOf(renderNftTable(s), 'nat-prerouting'), [
      'ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30080 drop comment "kube:default/web:tcp/80"',
      'fib daddr type local tcp dport 30080 drop comment "kube:default/web:tcp/80"',
    ]);
  });

  it('externalTrafficPolicy Cluster: local providers take their share, the others are reached through their host, masqueraded; a peer host is served locally only', () => {
    const s = desiredHostNet(withServices([WEB]), { addresses: [] });
    assert.deepEqual(s.nodePorts?.rules[0]?.remote, ['192.168.0.2'], 'a3 through its host h2');
    const text = renderNftTable(s);
    const local =
      'meta mark set 0x00030001 ct mark set 0x00030001 dnat ip to numgen random mod 2 map { 0 : 10.1.1.10 . 8080, 1 : 10.1.1.11 . 9090 } comment "kube:default/web:tcp/80"';
    for (const chain of ['nat-prerouting', 'nat-output'])
      assert.deepEqual(linesOf(text, chain), [
        `ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30080 ${local}`,
        `fib daddr type local tcp dport 30080 numgen random mod 3 < 2 ${local}`,
        'fib daddr type local tcp dport 30080 ct mark set 0x00040000 dnat ip to numgen random mod 1 map { 0 : 192.168.0.2 . 30080 } comment "kube:default/web:tcp/80"',
      ]);
    assert.ok(linesOf(text, 'nat-postrouting').includes('ct mark & 0x00040000 == 0x00040000 masquerade'), text);

    // only remote providers: all through their hosts; a peer's forward is dropped, never sent on
    const remoteOnly = desiredHostNet(withServices([{ ...WEB, providers: [WEB.providers[2]!] }]), { addresses: [] });
    assert.deepEqual(linesOf(renderNftTable(remoteOnly), 'nat-prerouting'), [
      'ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30080 drop comment "kube:default/web:tcp/80"',
      'fib daddr type local tcp dport 30080 ct mark set 0x00040000 dnat ip to numgen random mod 1 map { 0 : 192.168.0.2 . 30080 } comment "kube:default/web:tcp/80"',
    ]);
  });

  it('Cluster: a provider whose endpoint is not in the view is reached through the host its entry names', () => {
    const far = { endpointId: 'z9', ip: '10.1.1.99', targetPorts: [8080, 53], hostIp: '192.168.0.7' };
    const s = desiredHostNet(withServices([{ ...WEB, providers: [...WEB.providers, far] }]), { addresses: [] });
    assert.deepEqual(s.nodePorts?.rules[0]?.remote, ['192.168.0.2', '192.168.0.7']);
    const unknown = { ...far, hostIp: '' };
    const t = desiredHostNet(withServices([{ ...WEB, providers: [...WEB.providers, unknown] }]), { addresses: [] });
    assert.deepEqual(t.nodePorts?.rules[0]?.remote, ['192.168.0.2'], 'no address: left out');
  });

  it('no rule for a Contiv service or without a node port', () => {
    const contiv: ServiceLB = { ...WEB, key: 'blue:web', kube: false, network: 'blue:web', ip: '10.1.1.100' };
    assert.equal(desiredHostNet(withServices([contiv]), { addresses: [] }).nodePorts, undefined);
    const noNodePort = { ...WEB, ports: WEB.ports.map((p) => ({ ...p, nodePort: 0 })) };
    assert.equal(desiredHostNet(withServices([noNodePort]), { addresses: [] }).nodePorts, undefined);
  });

  describe('on a host without a gateway of the Service’s tenant', () => {
    // green is known here only through a remote endpoint (no gateway on h1); purple not at all
    const GREEN: ServiceLB = {
      key: 'kube:green/web',
      tenant: 'green',
      network: '',
      kube: true,
      ip: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'tcp', nodePort: 30090 },
        { name: 'dns', port: 53, targetPort: 53, protocol: 'udp', nodePort: 30053 },
      ],
      providers: [
        { endpointId: 'g2', ip: '10.3.1.10', targetPorts: [8080, 53], hostIp: '192.168.0.2' },
        // this host's own address: no pod of green can be here (no gateway), so never itself
        { endpointId: 'g5', ip: '10.3.1.14', targetPorts: [8080, 53], hostIp: '192.168.0.1' },
        { endpointId: 'g9', ip: '10.3.1.11', targetPorts: [9090, 53], hostIp: '192.168.0.3' },
        { endpointId: 'gx', ip: '10.3.1.12', targetPorts: [8080, 53] },
      ],
    };
    const hop = (proto: string, port: number, svc: string) =>
      `fib daddr type local ${proto} dport ${port} ct mark set 0x00040000 dnat ip to numgen random mod 2 map { 0 : 192.168.0.2 . ${port}, 1 : 192.168.0.3 . ${port} } comment "${svc}"`;

    it('externalTrafficPolicy Cluster: every connection goes to a provider’s host at the node port, masqueraded; a peer’s is dropped', () => {
      for (const svc of [GREEN, { ...GREEN, key: 'kube:purple/web', tenant: 'purple' }]) {
        const s = desiredHostNet(withServices([svc]), { addresses: [] });
        assert.deepEqual(
          s.nodePorts?.rules.map((r) => [r.tenantVrfId, r.protocol, r.nodePort, r.backends, r.remote]),
          [
            [0, 'tcp', 30090, [], ['192.168.0.2', '192.168.0.3']],
            [0, 'udp', 30053, [], ['192.168.0.2', '192.168.0.3']],
          ],
          svc.tenant,
        );
        const text = renderNftTable(s);
        for (const chain of ['nat-prerouting', 'nat-output'])
          assert.deepEqual(linesOf(text, chain), [
            `ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30090 drop comment "${svc.key}:tcp/80"`,
            hop('tcp', 30090, `${svc.key}:tcp/80`),
            `ip saddr { 192.168.0.2 } fib daddr type local udp dport 30053 drop comment "${svc.key}:udp/53"`,
            hop('udp', 30053, `${svc.key}:udp/53`),
          ]);
        assert.ok(linesOf(text, 'nat-postrouting').includes('ct mark & 0x00040000 == 0x00040000 masquerade'), text);
      }
    });

    it('externalTrafficPolicy Local: drops', () => {
      const s = desiredHostNet(withServices([{ ...GREEN, externalTrafficLocal: true }]), { addresses: [] });
      assert.deepEqual(linesOf(renderNftTable(s), 'nat-prerouting'), [
        'ip saddr { 192.168.0.2 } fib daddr type local tcp dport 30090 drop comment "kube:green/web:tcp/80"',
        'fib daddr type local tcp dport 30090 drop comment "kube:green/web:tcp/80"',
        'ip saddr { 192.168.0.2 } fib daddr type local udp dport 30053 drop comment "kube:green/web:udp/53"',
        'fib daddr type local udp dport 30053 drop comment "kube:green/web:udp/53"',
      ]);
    });

    it('a host with no tenant at all loads the table for the node ports alone (and none without them)', () => {
      const bare = (services: ServiceLB[]): PipelineInput => ({
        state: parseHostState({ global: {}, services }),
        local: parseLocalFacts({ hostName: 'h1', vtepIp: '192.168.0.1', ports: {}, bridge: {} }),
      });
      const s = desiredHostNet(bare([GREEN]), { addresses: [] });
      assert.deepEqual(s.gateways, []);
      const text = renderNftTable(s);
      assert.deepEqual(linesOf(text, 'nat-prerouting'), [
        hop('tcp', 30090, 'kube:green/web:tcp/80'),
        hop('udp', 30053, 'kube:green/web:udp/53'),
      ]);
      assert.deepEqual(linesOf(text, 'nat-postrouting'), ['ct mark & 0x00040000 == 0x00040000 masquerade']);
      assert.deepEqual(linesOf(text, 'raw-prerouting'), [], 'no tenant chain rule');
      assert.equal(renderNftTable(desiredHostNet(bare([]), { addresses: [] })), '');
    });
  });
});
