/** `netloom-lab run -p`: docker's and podman's spelling of a published port, as CNI portMappings. */
import { strict as assert } from 'node:assert';
import { isNetloomError } from '../../../lib/errors';
import { buildCli } from '../../../deploy/lab/cli';
import { parsePublish } from '../../../deploy/lab/publish';

describe('lab run -p (parsePublish)', () => {
  it('HOSTPORT:CONTAINERPORT, with a host address and a protocol', () => {
    assert.deepEqual(parsePublish('8080:80'), { hostPort: 8080, containerPort: 80, protocol: 'tcp' });
    assert.deepEqual(parsePublish('5353:53/udp'), { hostPort: 5353, containerPort: 53, protocol: 'udp' });
    assert.deepEqual(parsePublish('10.213.1.1:9000:90/tcp'), { hostPort: 9000, containerPort: 90, protocol: 'tcp', hostIP: '10.213.1.1' });
  });
  for (const bad of ['80', '0:80', '8080:65536', '8080:80/sctp', 'localhost:8080:80', '8080-8090:80', ':80', '8080:80/']) {
    it(`refuses ${bad} naming publish`, () => {
      assert.throws(
        () => parsePublish(bad),
        (e: unknown) => isNetloomError(e, 'INVALID_ARGUMENT') && e.field === 'publish' && e.message.includes(`"${bad}"`),
      );
    });
  }
  it('run takes -p and --publish, repeatable', () => {
    const run = buildCli().commands.find((c) => c.name() === 'run');
    assert.ok(run);
    run.parseOptions(['-p', '8080:80', '--publish', '5353:53/udp']);
    assert.deepEqual(run.opts().publish, [
      { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
      { hostPort: 5353, containerPort: 53, protocol: 'udp' },
    ]);
  });
});
