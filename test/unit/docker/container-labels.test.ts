import { strict as assert } from 'node:assert';
import { NetloomError } from '../../../lib/errors';
import { containerOfEndpoint, endpointLabelsOf, findEndpointContainer } from '../../../netplugin/docker/container-labels';
import type { DockerContainerSummary } from '../../../netplugin/docker/engine-client';

const C1: DockerContainerSummary = {
  Id: 'c1',
  Labels: { app: 'web' },
  NetworkSettings: { Networks: { 'db/blue': { EndpointID: 'ep1' } } },
};
const C2: DockerContainerSummary = { Id: 'c2', Labels: null, NetworkSettings: { Networks: { 'db/blue': { EndpointID: '' } } } };

describe('Docker container labels as endpoint labels', () => {
  it('finds the container by its Docker endpoint id', () => {
    assert.equal(containerOfEndpoint([C2, C1], 'ep1')?.Id, 'c1');
    assert.equal(containerOfEndpoint([C2], 'ep1'), undefined);
  });

  it('keeps valid labels and names each one left out with why', () => {
    const r = endpointLabelsOf({ app: 'web', 'com.example.note': 'a,b', 'bad key': 'x', 'com.docker.compose.project': 'shop' });
    assert.deepEqual(r.labels, { app: 'web', 'com.docker.compose.project': 'shop' });
    assert.deepEqual(
      r.dropped.map((d) => d.field),
      ['Labels.bad key', 'Labels.com.example.note'],
    );
    assert.deepEqual(endpointLabelsOf(null), { labels: {}, dropped: [] });
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v']));
    const capped = endpointLabelsOf(many);
    assert.equal(Object.keys(capped.labels).length, 64);
    assert.equal(capped.dropped.length, 6);
  });

  it('waits until dockerd lists the container with the endpoint (it is set once the start is done)', async () => {
    let calls = 0;
    const docker = {
      containersOnNetwork: async (id: string) => {
        assert.equal(id, 'net1');
        if (++calls === 1) throw new NetloomError('UNAVAILABLE', 'dockerd busy');
        return calls < 3 ? [C2] : [C2, C1];
      },
    };
    assert.equal((await findEndpointContainer(docker, 'net1', 'ep1', 5000)).Id, 'c1');
    assert.equal(calls, 3);
  });
});
