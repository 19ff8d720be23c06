/**
 * Two netmaster instances on one real etcd, 16 concurrent HTTP clients spread over both:
 * 1000 endpoint creates in one network get 1000 distinct addresses and MACs; racing creates of
 * overlapping subnets, of one network name, of one VLAN tag and of one container's endpoint each
 * end with exactly one winner; auto-allocated tags and group ids never repeat; and afterwards the
 * allocations equal the objects (checkConsistency clean).
 */
import assert from 'node:assert/strict';
import { createLogger } from '../../../lib/logger';
import { startNetmaster, type RunningNetmaster } from '../../../netmaster/netmaster';
import { call, pool, startTestEtcd, type HttpResult, type TestEtcd } from './support';

const CLIENTS = 16;

for (const cache of [true, false])
  describe(`netmaster under concurrency: two instances, 16 clients (intent cache ${cache ? 'on' : 'off'})`, function () {
    this.timeout(90_000);
    let etcd: TestEtcd | undefined;
    const masters: RunningNetmaster[] = [];
    const api = (i: number) => `${masters[i % masters.length]?.url ?? ''}/api/v1`;

    before(async () => {
      etcd = await startTestEtcd();
      for (let i = 0; i < 2; i++)
        masters.push(await startNetmaster({ etcdEndpoints: [etcd.url], logger: createLogger('nm', { level: 'silent' }), cache }));
      const r = await call('POST', `${api(0)}/tenants/c1/`, { tenantName: 'c1' });
      assert.equal(r.status, 200);
    });

    after(async () => {
      for (const m of masters) await m.stop();
      await etcd?.stop();
    });

    /** `n` racing requests, alternating between the two instances, all released at once. */
    async function race(n: number, req: (i: number) => [string, string, unknown]): Promise<HttpResult[]> {
      return Promise.all(
        Array.from({ length: n }, (_, i) => {
          const [method, path, body] = req(i);
          return call(method, `${api(i)}${path}`, body);
        }),
      );
    }

    it('hands out 1000 distinct addresses and MACs to 1000 concurrent endpoint creates', async () => {
      const n = await call('POST', `${api(0)}/networks/c1:big/`, {
        tenantName: 'c1',
        networkName: 'big',
        subnet: '10.100.0.0/16',
        gateway: '10.100.0.1',
        encap: 'vxlan',
      });
      assert.equal(n.status, 200, n.text);
      const ids = Array.from({ length: 1000 }, (_, i) => i);
      const t0 = Date.now();
      const eps = await pool(ids, CLIENTS, async (i) => {
        const r = await call('POST', `${api(i)}/endpoints/`, {
          tenantName: 'c1',
          networkName: 'big',
          containerID: `ctr-${i}`,
          homingHost: `host${i % 4}`,
        });
        assert.equal(r.status, 200, r.text);
        return r.json as { ipAddress: string; macAddress: string; endpointID: string };
      });
      const secs = (Date.now() - t0) / 1000;
      assert.equal(new Set(eps.map((e) => e.ipAddress)).size, 1000, 'addresses are distinct');
      assert.equal(new Set(eps.map((e) => e.macAddress)).size, 1000, 'MACs are distinct');
      assert.equal(new Set(eps.map((e) => e.endpointID)).size, 1000);
      assert.ok(!eps.some((e) => e.ipAddress === '10.100.0.1'), 'the gateway is never handed out');
      const inspect = await call('GET', `${api(1)}/inspect/networks/c1:big/`);
      assert.equal(inspect.json.Oper.allocatedAddressesCount, 1000);
      assert.equal(inspect.json.Oper.numEndpoints, 1000);
      process.stdout.write(
        `      1000 endpoint creates, 16 clients, 2 instances: ${(1000 / secs).toFixed(0)}/s, ${masters.reduce((a, m) => a + m.service.conflicts, 0)} commit retries, ${masters.reduce((a, m) => a + m.service.fastCommits, 0)} fast commits\n`,
      );
    });

    it('a retried endpoint create (same container) racing itself yields one endpoint', async () => {
      const rs = await race(CLIENTS, () => [
        'POST',
        '/endpoints/',
        { tenantName: 'c1', networkName: 'big', containerID: 'same-ctr', homingHost: 'h' },
      ]);
      assert.ok(
        rs.every((r) => r.status === 200),
        rs.map((r) => r.text).join('\n'),
      );
      assert.equal(new Set(rs.map((r) => r.json.ipAddress)).size, 1);
      assert.equal(rs.filter((r) => r.json.created === true).length, 1, 'exactly one create did the allocation');
    });

    it('accepts exactly one of 16 overlapping subnets', async () => {
      const rs = await race(CLIENTS, (i) => [
        'POST',
        `/networks/c1:ov${i}/`,
        { tenantName: 'c1', networkName: `ov${i}`, subnet: `10.50.0.0/${16 + (i % 9)}`, encap: 'vlan' },
      ]);
      const ok = rs.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
      assert.ok(
        rs.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.json.field === 'subnet'),
        rs.map((r) => r.text).join('\n'),
      );
      const nets = (await call('GET', `${api(1)}/networks/`)).json.filter((x: { key: string }) => x.key.startsWith('c1:ov'));
      assert.equal(nets.length, 1);
    });

    it('accepts exactly one of 16 creates of one network name with different subnets', async () => {
      const rs = await race(CLIENTS, (i) => [
        'POST',
        '/networks/c1:dup/',
        { tenantName: 'c1', networkName: 'dup', subnet: `10.60.${i}.0/24`, encap: 'vxlan' },
      ]);
      const ok = rs.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
      assert.ok(
        rs.filter((r) => r.status !== 200).every((r) => r.status === 409),
        rs.map((r) => r.text).join('\n'),
      );
      const stored = (await call('GET', `${api(0)}/networks/c1:dup/`)).json;
      assert.equal(stored.subnet, ok[0]?.json.subnet, 'the stored network is the winner');
    });

    it('gives one explicit VLAN to exactly one of 16 networks', async () => {
      const rs = await race(CLIENTS, (i) => [
        'POST',
        `/networks/c1:tag${i}/`,
        { tenantName: 'c1', networkName: `tag${i}`, subnet: `10.70.${i}.0/24`, encap: 'vlan', pktTag: 777 },
      ]);
      assert.equal(rs.filter((r) => r.status === 200).length, 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
      assert.ok(rs.filter((r) => r.status !== 200).every((r) => r.status === 409 && r.json.field === 'pktTag'));
    });

    it('never repeats auto-allocated tags or group ids', async () => {
      const tenants = Array.from({ length: CLIENTS }, (_, i) => `ct${i}`);
      await pool(tenants, CLIENTS, async (t, i) =>
        assert.equal((await call('POST', `${api(i)}/tenants/${t}/`, { tenantName: t })).status, 200),
      );
      const nets = await race(CLIENTS, (i) => [
        'POST',
        `/networks/ct${i}:n/`,
        { tenantName: `ct${i}`, networkName: 'n', subnet: '10.80.0.0/24', encap: 'vlan' },
      ]);
      assert.ok(
        nets.every((r) => r.status === 200),
        nets.map((r) => r.text).join('\n'),
      );
      // each config keeps pktTag 0; the allocated VLAN is the Oper's
      assert.ok(nets.every((r) => r.json.pktTag === 0));
      const vlans = await Promise.all(
        tenants.map(async (t, i) => (await call('GET', `${api(i)}/inspect/networks/${t}:n/`)).json.Oper.pktTag as number),
      );
      assert.equal(new Set(vlans).size, CLIENTS, `distinct VLANs: ${vlans.join(',')}`);
      const groups = await race(CLIENTS * 2, (i) => [
        'POST',
        `/endpointGroups/ct${i % CLIENTS}:g${i}/`,
        { tenantName: `ct${i % CLIENTS}`, groupName: `g${i}`, networkName: 'n' },
      ]);
      assert.ok(
        groups.every((r) => r.status === 200),
        groups.map((r) => r.text).join('\n'),
      );
      const ids = await Promise.all(
        groups.map(
          async (_r, i) =>
            (await call('GET', `${api(i)}/inspect/endpointGroups/ct${i % CLIENTS}:g${i}/`)).json.Oper.endpointGroupId as number,
        ),
      );
      assert.equal(new Set(ids).size, CLIENTS * 2, `distinct group ids: ${ids.join(',')}`);
    });

    it('checks a create on one instance against a change made on the other a moment before', async () => {
      assert.equal((await call('POST', `${api(0)}/policys/c1:seqpol/`, { tenantName: 'c1', policyName: 'seqpol' })).status, 200);
      for (let i = 0; i < 20; i++) {
        const a = await call('POST', `${api(0)}/networks/c1:seq${i}/`, {
          tenantName: 'c1',
          networkName: `seq${i}`,
          subnet: `10.90.${i}.0/24`,
          encap: 'vxlan',
        });
        assert.equal(a.status, 200, a.text);
        const overlap = await call('POST', `${api(1)}/networks/c1:seqx${i}/`, {
          tenantName: 'c1',
          networkName: `seqx${i}`,
          subnet: `10.90.${i}.128/25`,
          encap: 'vxlan',
        });
        assert.equal(overlap.status, 409, overlap.text);
        const grp = await call('POST', `${api(1)}/endpointGroups/c1:seqg${i}/`, {
          tenantName: 'c1',
          groupName: `seqg${i}`,
          networkName: `seq${i}`,
        });
        assert.equal(grp.status, 200, grp.text);
        const del = await call('DELETE', `${api(0)}/endpointGroups/c1:seqg${i}/`);
        assert.equal(del.status, 200, del.text);
        const gone = await call('POST', `${api(1)}/rules/c1:seqpol:${i}/`, {
          tenantName: 'c1',
          policyName: 'seqpol',
          ruleId: String(i),
          direction: 'in',
          fromEndpointGroup: `seqg${i}`,
        });
        assert.equal(gone.status, 404, gone.text);
        assert.equal(gone.json.field, 'fromEndpointGroup');
      }
    });

    it('never lets a delete and a create that references it both win', async () => {
      const rounds = 12;
      await pool(
        Array.from({ length: rounds }, (_, i) => i),
        CLIENTS,
        async (i) => {
          for (const [path, body] of [
            [`/networks/c1:rd${i}/`, { tenantName: 'c1', networkName: `rd${i}`, subnet: `10.91.${i}.0/24`, encap: 'vxlan' }],
            [`/networks/c1:re${i}/`, { tenantName: 'c1', networkName: `re${i}`, subnet: `10.92.${i}.0/24`, encap: 'vxlan' }],
            [`/policys/c1:rp${i}/`, { tenantName: 'c1', policyName: `rp${i}` }],
          ] as const)
            assert.equal((await call('POST', `${api(0)}${path}`, body)).status, 200);
        },
      );
      const outcomes = await Promise.all(
        Array.from({ length: rounds }, async (_, i) => {
          // delete on one instance, create a referrer on the other, at the same moment
          const [delNet, grp, delNet2, ep, delPol, grp2] = await Promise.all([
            call('DELETE', `${api(0)}/networks/c1:rd${i}/`),
            call('POST', `${api(1)}/endpointGroups/c1:rg${i}/`, { tenantName: 'c1', groupName: `rg${i}`, networkName: `rd${i}` }),
            call('DELETE', `${api(1)}/networks/c1:re${i}/`),
            call('POST', `${api(0)}/endpoints/`, { tenantName: 'c1', networkName: `re${i}`, containerID: `race-${i}` }),
            call('DELETE', `${api(0)}/policys/c1:rp${i}/`),
            call('POST', `${api(1)}/endpointGroups/c1:rq${i}/`, {
              tenantName: 'c1',
              groupName: `rq${i}`,
              networkName: 'big',
              policies: [`rp${i}`],
            }),
          ]);
          return {
            i,
            delNet: delNet.status,
            grp: grp.status,
            delNet2: delNet2.status,
            ep: ep.status,
            delPol: delPol.status,
            grp2: grp2.status,
          };
        }),
      );
      for (const o of outcomes) {
        // exactly one side of each pair won, and the loser got a clear 4xx
        assert.ok((o.delNet === 200) !== (o.grp === 200), JSON.stringify(o));
        assert.ok((o.delNet2 === 200) !== (o.ep === 200), JSON.stringify(o));
        assert.ok((o.delPol === 200) !== (o.grp2 === 200), JSON.stringify(o));
        for (const st of [o.delNet, o.grp, o.delNet2, o.ep, o.delPol, o.grp2]) assert.ok([200, 404, 409].includes(st), JSON.stringify(o));
      }
      // and the store agrees: no referrer of a missing object
      const nets = new Set((await call('GET', `${api(0)}/networks/`)).json.map((n: { key: string }) => n.key));
      const pols = new Set((await call('GET', `${api(0)}/policys/`)).json.map((p: { key: string }) => p.key));
      for (const g of (await call('GET', `${api(1)}/endpointGroups/`)).json as Array<{
        tenantName: string;
        networkName: string;
        policies: string[];
      }>) {
        assert.ok(nets.has(`${g.tenantName}:${g.networkName}`));
        for (const p of g.policies) assert.ok(pols.has(`${g.tenantName}:${p}`));
      }
      for (const e of (await call('GET', `${api(1)}/endpoints/`)).json as Array<{ network: string }>)
        assert.ok(nets.has(e.network), e.network);
      // leave only what the final count below expects
      for (const o of outcomes) {
        if (o.ep === 200) {
          const eps = (await call('GET', `${api(0)}/endpoints/?network=c1:re${o.i}`)).json as Array<{ endpointID: string }>;
          for (const e of eps) assert.equal((await call('DELETE', `${api(0)}/endpoints/${e.endpointID}/`)).status, 200);
        }
      }
    });

    it('ends with allocations equal to the objects, seen from both instances', async () => {
      for (let i = 0; i < 2; i++) {
        const c = await masters[i]?.service.checkConsistency();
        assert.ok(c);
        assert.equal(c.clean, true, JSON.stringify({ leaked: c.leaked.slice(0, 5), missing: c.missing.slice(0, 5) }));
        assert.equal(c.counts.endpoints, 1001);
      }
      const alloc = await masters[0]?.service.allocationCounts();
      assert.equal(alloc?.ip, 1002, '1001 endpoints + 1 gateway');
      assert.equal(alloc?.mac, 1001);
    });
  });
