import { strict as assert } from 'node:assert';
import type { VSwitchState } from '../../../ovs/ovsdb/vswitch';
import type { PortSpec } from '../../../ovs/ovsdb/vswitch-specs';
import type { TxPlan } from '../../../ovs/ovsdb/vswitch-tx';
import { desiredHostNet } from '../../../netplugin/hostnet/desired-state';
import { GatewayPorts, type GatewaySwitch } from '../../../netplugin/hostnet/gateway-ports';
import { input } from './fixture';

/** A bridge in memory: ports with their MAC, ofports handed out in order, every call recorded. */
class FakeBridge implements GatewaySwitch {
  readonly calls: string[] = [];
  readonly ports = new Map<string, { mac: string; ofport: number; spec?: PortSpec }>();
  private next = 7;

  async readState(): Promise<VSwitchState> {
    const ports = [...this.ports].map(([name, p]) => ({
      uuid: `u-${name}`,
      name,
      tag: undefined,
      trunks: [],
      vlanMode: undefined,
      qos: undefined,
      otherConfig: {},
      externalIds: {},
      interfaces: [
        {
          uuid: `i-${name}`,
          name,
          type: 'internal',
          options: {},
          ofport: p.ofport,
          ofportRequest: undefined,
          error: undefined,
          macInUse: p.mac.toUpperCase(),
          externalIds: {},
        },
      ],
    }));
    const br = {
      uuid: 'b',
      name: 'br-int',
      datapathType: 'netdev',
      failMode: undefined,
      protocols: [],
      controllers: [],
      otherConfig: {},
      externalIds: {},
      ports,
    };
    return { bridges: [br], orphanQos: [], orphanQueues: [] };
  }
  async addPort(bridge: string, spec: PortSpec): Promise<void> {
    this.calls.push(`add ${bridge} ${spec.name} ${spec.type} ${spec.mac} mtu ${spec.mtuRequest}`);
    this.ports.set(spec.name, { mac: spec.mac ?? '', ofport: this.next++, spec });
  }
  async deletePort(name: string): Promise<boolean> {
    this.calls.push(`del ${name}`);
    return this.ports.delete(name);
  }
  async syncWithVswitchd(): Promise<number> {
    return 1;
  }
  async waitForOfport(name: string): Promise<number> {
    return this.ports.get(name)!.ofport;
  }
  async run(plan: TxPlan): Promise<[]> {
    this.calls.push(`tx ${JSON.stringify(plan.ops)}`);
    return [];
  }
}

describe('hostnet: gateway ports on br-int (fake OVSDB)', () => {
  const gws = desiredHostNet(input(), { addresses: [] }).gateways;

  it('adds the missing ports (internal, fixed MAC, MTU) and returns their ofports', async () => {
    const br = new FakeBridge();
    const gp = new GatewayPorts('br-int');
    assert.deepEqual(await gp.ensure(br, gws), { nlgw1: 7, nlgw2: 8 });
    assert.deepEqual(br.calls, [
      'add br-int nlgw1 internal 02:6e:6c:fe:00:01 mtu 1450',
      'add br-int nlgw2 internal 02:6e:6c:fe:00:02 mtu 1450',
    ]);
    assert.deepEqual(br.ports.get('nlgw1')!.spec!.externalIds, { 'netloom-gateway': 'blue' });
  });

  it('keeps a port that is right (its MTU set again), makes one with another MAC again', async () => {
    const br = new FakeBridge();
    br.ports.set('nlgw1', { mac: '02:6e:6c:fe:00:01', ofport: 3 });
    br.ports.set('nlgw2', { mac: '02:00:00:00:00:99', ofport: 4 });
    assert.deepEqual(await new GatewayPorts('br-int').ensure(br, gws), { nlgw1: 3, nlgw2: 7 });
    assert.match(br.calls[0]!, /^tx .*"table":"Interface".*"nlgw1".*"mtu_request":1450/);
    assert.deepEqual(br.calls.slice(1), ['del nlgw2', 'add br-int nlgw2 internal 02:6e:6c:fe:00:02 mtu 1450']);
  });

  it('removes the gateway ports that are not desired, and only those', async () => {
    const br = new FakeBridge();
    for (const [n, o] of [
      ['nlgw1', 1],
      ['nlgw9', 2],
      ['veth-a1', 3],
      ['nlgwx', 4],
    ] as const)
      br.ports.set(n, { mac: '02:00:00:00:00:01', ofport: o });
    assert.deepEqual(await new GatewayPorts('br-int').removeStale(br, gws.slice(0, 1)), ['nlgw9']);
    assert.deepEqual([...br.ports.keys()], ['nlgw1', 'veth-a1', 'nlgwx']);
  });
});
