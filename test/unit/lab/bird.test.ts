/** The lab tor's BIRD configuration and status parsing (deploy/lab/bird.ts), pure. */
import { strict as assert } from 'node:assert';
import { birdConfig, birdNeighbors, labBgpDefault, parseBirdProtocols } from '../../../deploy/lab/bird';
import { planLab } from '../../../deploy/lab/plan';
import { parseObject } from '../../../netmaster/model/keys';
import { DEFAULT_GLOBAL } from '../../../netmaster/service/service';

describe('lab: the tor as BGP route reflector (bird.ts)', () => {
  const plan = planLab({ name: 'tbgp', hosts: 3, etcdMembers: 1 }, '/tmp/nl-root');

  it('one iBGP session per host, to its data address, in AS 65000, as route-reflector clients', () => {
    const conf = birdConfig(plan);
    assert.match(conf, new RegExp(`router id ${plan.torDataIp};`));
    assert.match(conf, /rr client;/);
    assert.match(conf, new RegExp(`local ${plan.torDataIp} as 65000;`));
    assert.match(conf, /hold time 9;\n\s+keepalive time 3;/);
    assert.match(conf, /next hop keep; gateway direct;/);
    // a restarted gobgpd is taken back within the hold time, not after BIRD's 60 s error wait
    assert.match(conf, /error wait time 1, 3;/);
    for (const h of plan.hosts)
      assert.match(conf, new RegExp(`protocol bgp nl_${h.name} from nl_host \\{ neighbor ${h.dataIp} as 65000; \\}`));
    assert.equal(conf.match(/^protocol bgp /gm)?.length, 3);
    assert.deepEqual(
      birdNeighbors(plan).map((n) => n.address),
      plan.hosts.map((h) => h.dataIp),
    );
  });

  it("netmaster's default matches the tor and is a valid global object", () => {
    const d = labBgpDefault(plan);
    assert.deepEqual(d, { bgpAs: '65000', bgpNeighbors: [`${plan.torDataIp}:65000`], bgpHoldTime: 9, bgpKeepaliveTime: 3 });
    assert.equal(parseObject('global', { ...DEFAULT_GLOBAL, ...d }).bgpAs, '65000');
  });

  it('reads birdc show protocols', () => {
    const text = [
      'BIRD 2.0.12 ready.',
      'Name       Proto      Table      State  Since         Info',
      'device1    Device     ---        up     12:00:01.123  ',
      'kernel1    Kernel     master4    up     12:00:01.123  ',
      'nl_host1   BGP        ---        up     12:00:05.456  Established   ',
      'nl_host2   BGP        ---        start  12:00:01.123  Active        Socket: Connection refused',
      'nl_host3   BGP        ---        start  12:00:01.123  Connect',
    ].join('\n');
    const rows = parseBirdProtocols(text);
    assert.deepEqual(
      rows.filter((r) => r.proto === 'BGP').map((r) => [r.name, r.state, r.info]),
      [
        ['nl_host1', 'up', 'Established'],
        ['nl_host2', 'start', 'Active        Socket: Connection refused'],
        ['nl_host3', 'start', 'Connect'],
      ],
    );
    assert.equal(rows.length, 5);
  });
});
