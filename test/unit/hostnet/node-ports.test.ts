/**
 * Kubernetes node ports in the host's nftables table (node-ports.ts, nft-render.ts): a NodePort
 * Service's port is DNATed to the host's local providers at random, each at its own target port,
 * with the tenant mark of a published port; remote providers, Contiv services, ports without a
 * node port and tenants without a gateway here get no rule.
 */
import { strict as assert } from 'node:assert';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { renderNftTable } from '../../../netplugin/hostnet/nft-render';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import type { ServiceLB } from '../../../netplugin/state/host-state';
import { ep, input } from './fixture';

function withServices(services: ServiceLB[]): PipelineInput {
  const base = input({
    endpoints: [
      ep('a1', 'blue:web', 'h1', '10.1.1.10', 1),
      ep('a2', 'blue:web', 'h1', '10.1.1.11', 2),
      ep('a3', 'blue:web', 'h2', '10.1.1.12', 3),
      ep('g2', 'green:web', 'h2', '10.3.1.10', 4),
    ],
  });
  return { ...base, state: { ...base.state, services } };
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
  it('DNATs the node port to the local providers at random, each at its own port, marked as a published port', () => {
    const s = desiredHostNet(withServices([WEB]), { addresses: [] });
    assert.deepEqual(s.nodePorts, [
      {
        tenantVrfId: 1,
        protocol: 'tcp',
        nodePort: 30080,
        service: 'kube:default/web:tcp/80',
        backends: [
          { ip: '10.1.1.10', port: 8080 },
          { ip: '10.1.1.11', port: 9090 },
        ],
      },
    ]);
    const rule =
      'fib daddr type local tcp dport 30080 meta mark set 0x00030001 ct mark set 0x00030001 dnat ip to numgen random mod 2 map { 0 : 10.1.1.10 . 8080, 1 : 10.1.1.11 . 9090 } comment "kube:default/web:tcp/80"';
    const text = renderNftTable(s);
    assert.equal(text.split('\n').filter((l) => l.trim() === rule).length, 2, `in nat-prerouting and nat-output:\n${text}`);
  });

  it('no rule without a local provider, for a Contiv service, or without a node port', () => {
    const remoteOnly = { ...WEB, providers: [WEB.providers[2]!] };
    assert.equal(desiredHostNet(withServices([remoteOnly]), { addresses: [] }).nodePorts, undefined);
    const contiv: ServiceLB = { ...WEB, key: 'blue:web', kube: false, network: 'blue:web', ip: '10.1.1.100' };
    assert.equal(desiredHostNet(withServices([contiv]), { addresses: [] }).nodePorts, undefined);
    const noNodePort = { ...WEB, ports: WEB.ports.map((p) => ({ ...p, nodePort: 0 })) };
    assert.equal(desiredHostNet(withServices([noNodePort]), { addresses: [] }).nodePorts, undefined);
  });
});
