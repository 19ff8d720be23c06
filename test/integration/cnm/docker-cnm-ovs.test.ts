/**
 * The CNM plugin with the real Docker engine and a backend that plugs the host side of each
 * container's veth into a real Open vSwitch (private ovsdb-server + ovs-vswitchd, userspace
 * datapath) in dockerd's network namespace: containers reach each other through OVS, ports come
 * and go with containers, the bridge with the network.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RunningCnmPlugin, startCnmPlugin } from '../../../netplugin/cnm/index';
import { endpointLinkNames } from '../../../netplugin/cnm/backend';
import { addNetns, delNetns } from '../../../deploy/lab/netns';
import { ovsCtl, OvsInstance, startOvs, stopOvs } from '../../../deploy/lab/ovs-instance';
import { PrivateDockerd, TEST_IMAGE } from './private-dockerd';
import { bridgeName, VethTestBackend } from './veth-backend';
import { CleanupSteps } from '../../support/cleanup-steps';
import { netloomNetworkCreate } from '../../support/lab-cli';

describe('CNM plugin with the real Docker engine and Open vSwitch', function () {
  this.timeout(120_000);
  const netns = `cnmo${process.pid.toString(36)}`;
  let dir: string;
  let dockerd: PrivateDockerd;
  let ovs: OvsInstance | undefined;
  let backend: VethTestBackend;
  let plugin: RunningCnmPlugin | undefined;

  const ports = async (br: string): Promise<string[]> =>
    (await ovsCtl(ovs!, 'ovs-vsctl', ['list-ports', br])).split('\n').filter((p) => p !== '');

  before(async () => {
    mkdirSync('/tmp/nl-cnm', { recursive: true });
    dir = mkdtempSync('/tmp/nl-cnm/ovs-');
    await addNetns(netns);
    ovs = await startOvs(join(dir, 'ovs'), netns);
    backend = new VethTestBackend(netns, ovs);
    dockerd = new PrivateDockerd(join(dir, 'docker'), netns);
    plugin = await startCnmPlugin({ backend, statePath: join(dir, 'cnm-state.json'), socketPath: dockerd.pluginSocket('netloom') });
    await dockerd.start();
    await dockerd.importBusybox();
  });

  after(async function () {
    this.timeout(90_000);
    const steps = new CleanupSteps();
    if (dockerd?.pid !== undefined) {
      await steps.attempt('remove containers', () => dockerd.docker(['rm', '-f', 'o1', 'o2'], true));
      await steps.attempt('remove network', () => dockerd.docker(['network', 'rm', 'nlo'], true));
    }
    await steps.attempt('stop dockerd', () => dockerd.stop());
    await steps.attempt('stop plugin', async () => plugin?.stop());
    await steps.attempt('stop ovs', () => stopOvs(join(dir, 'ovs')));
    await steps.attempt('remove links', () => backend.cleanup());
    await steps.attempt('remove netns', () => delNetns(netns));
    await steps.attempt('remove dirs', async () => {
      await dockerd.removeDir();
      rmSync(dir, { recursive: true, force: true });
    });
    steps.throwIfFailed();
  });

  it('connects two containers through an OVS bridge and removes ports and bridge after them', async () => {
    const id = (
      await dockerd.docker(netloomNetworkCreate('nlo', { opts: { tenant: 't1', network: 'ovsnet' }, ipam: {}, subnet: '10.58.0.0/24' }))
    ).stdout.trim();
    const br = bridgeName(id);
    assert.deepEqual(await ports(br), [], 'the network has an (empty) OVS bridge');
    for (const name of ['o1', 'o2']) await dockerd.docker(['run', '-d', '--name', name, '--network', 'nlo', TEST_IMAGE, 'sleep', '600']);
    const endpoints = Object.values(plugin!.plugin.snapshot().endpoints);
    assert.equal(endpoints.length, 2);
    assert.deepEqual(
      (await ports(br)).sort(),
      endpoints.map((e) => endpointLinkNames(e.endpointId, 'nlc').host).sort(),
      'one OVS port per container',
    );
    const ping = await dockerd.docker(['exec', 'o1', 'ping', '-c', '3', '-W', '2', '-i', '0.2', '10.58.0.3'], true, 20_000);
    assert.match(ping.stdout, /3 packets received/, ping.stdout + ping.stderr);
    const fdb = await ovsCtl(ovs!, 'ovs-appctl', ['fdb/show', br]);
    assert.match(fdb, /02:02:0a:3a:00:02/, 'OVS learned o1 (MAC from the backend)');
    await dockerd.docker(['rm', '-f', 'o1', 'o2']);
    assert.deepEqual(await ports(br), [], 'ports removed with the containers');
    await dockerd.docker(['network', 'rm', 'nlo']);
    const bridges = (await ovsCtl(ovs!, 'ovs-vsctl', ['list-br'])).trim();
    assert.equal(bridges, '', 'bridge removed with the network');
  });
});
