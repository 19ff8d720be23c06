/**
 * One-bridge hosts (features/underlay.ts): with the uplink on br-int, the host's own untagged
 * underlay traffic passes between the uplink and br-int's local port (which holds the VTEP
 * address), while tagged frames stay the VLAN classifier's; with two bridges no such flow exists.
 */
import { strict as assert } from 'node:assert';
import { OFPP } from '../../../ovs/openflow/messages';
import type { PipelineInput } from '../../../netplugin/pipeline/input';
import { parseLocalFacts } from '../../../netplugin/state/host-state';
import { table } from '../../../netplugin/pipeline/tables';
import { PacketTracer, type Packet } from '../../support/packet-tracer';
import { checkedPipeline } from './checked-pipeline';
import { endpoint, HOSTS, hostInput, portOf, UPLINK } from './fixture';

function oneBridge(input: PipelineInput): PipelineInput {
  return { state: input.state, local: { ...input.local, bridge: { ...input.local.bridge, oneBridge: true } } };
}

/** A VXLAN packet from host h2's VTEP to h1's, as it arrives untagged on the uplink. */
const tunnelPacket: Packet = {
  in_port: UPLINK,
  eth_src: '02:00:00:aa:00:02',
  eth_dst: '02:00:00:aa:00:01',
  eth_type: 0x0800,
  ipv4_src: HOSTS.h2,
  ipv4_dst: HOSTS.h1,
  ip_proto: 17,
  udp_src: 51000,
  udp_dst: 4789,
};

const arpRequest: Packet = {
  in_port: UPLINK,
  eth_src: '02:00:00:aa:00:02',
  eth_dst: 'ff:ff:ff:ff:ff:ff',
  eth_type: 0x0806,
  arp_op: 1,
  arp_spa: HOSTS.h2,
  arp_tpa: HOSTS.h1,
  arp_sha: '02:00:00:aa:00:02',
  arp_tha: '00:00:00:00:00:00',
};

describe('pipeline: one bridge (the underlay through br-int)', () => {
  const h1 = oneBridge(hostInput('h1'));

  it('writes two classifier flows, within the table contract, only with oneBridge', () => {
    const flows = checkedPipeline(h1).filter((f) => f.feature === 'underlay');
    assert.deepEqual(
      flows.map((f) => [f.table, f.object]),
      [
        [table('classifier'), 'underlay:in'],
        [table('classifier'), 'underlay:out'],
      ],
    );
    assert.deepEqual(
      checkedPipeline(hostInput('h1')).filter((f) => f.feature === 'underlay'),
      [],
    );
  });

  it("untagged frames from the uplink (tunnel packets, ARP for the VTEP) go to the local port, the host's go out of the uplink", () => {
    const t = new PacketTracer(checkedPipeline(h1));
    for (const p of [tunnelPacket, arpRequest]) {
      const r = t.trace(p);
      assert.deepEqual(
        r.outputs.map((o) => o.port),
        [OFPP.LOCAL],
        JSON.stringify(r.steps),
      );
      assert.equal(r.steps[0]!.feature, 'underlay');
    }
    const reply = t.trace({ ...tunnelPacket, in_port: OFPP.LOCAL, ipv4_src: HOSTS.h1, ipv4_dst: HOSTS.h2 });
    assert.deepEqual(
      reply.outputs.map((o) => o.port),
      [UPLINK],
    );
    // unchanged: no tag pushed on the host's own traffic
    assert.equal(reply.outputs[0]!.packet.vlan, undefined);
  });

  it("a tagged frame from the uplink is still the VLAN network's: popped and delivered to the endpoint, not the local port", () => {
    const v1 = endpoint('v1');
    const r = new PacketTracer(checkedPipeline(h1)).trace({
      in_port: UPLINK,
      vlan: 100,
      eth_src: '02:00:00:00:04:0b',
      eth_dst: v1.mac,
      eth_type: 0x0800,
      ipv4_src: '10.2.1.11',
      ipv4_dst: v1.ip,
      ip_proto: 17,
      udp_src: 1000,
      udp_dst: 2000,
    });
    assert.deepEqual(
      r.outputs.map((o) => o.port),
      [portOf('v1')],
      JSON.stringify(r.steps),
    );
    assert.equal(r.outputs[0]!.packet.vlan, undefined);
  });

  it('with two bridges the same frames are dropped on br-int (br-phy carries them)', () => {
    const t = new PacketTracer(checkedPipeline(hostInput('h1')));
    assert.deepEqual(t.trace(tunnelPacket).outputs, []);
    assert.deepEqual(t.trace({ ...tunnelPacket, in_port: OFPP.LOCAL }).outputs, []);
  });

  it('oneBridge without an uplink is refused, naming the field', () => {
    assert.throws(
      () => parseLocalFacts({ hostName: 'h1', vtepIp: HOSTS.h1, ports: {}, bridge: { vxlan: 2, oneBridge: true } }),
      /bridge\.oneBridge: oneBridge needs the uplink/,
    );
  });
});
