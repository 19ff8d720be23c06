/** tools/apic-standin/mit: containment, RN/DN formation, property checks, status deleted, queries, state dump. */
import { strict as assert } from 'node:assert';
import { ApicError } from '../../../tools/apic-standin/apic-error';
import { Mit } from '../../../tools/apic-standin/mit';

const tenant = (children: unknown[] = []) => ({ fvTenant: { attributes: { name: 'acT' }, children } });

function refused(fn: () => void, code: string, text: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ApicError && e.code === code && text.test(e.message));
}

describe('APIC stand-in: the managed object tree', () => {
  it('creates a nested tree with DNs from the RNs, and reads it back by DN and class', () => {
    const m = new Mit();
    m.post(
      'uni/tn-acT',
      tenant([
        { fvCtx: { attributes: { name: 'ctx1' } } },
        {
          fvBD: {
            attributes: { name: 'bd1' },
            children: [{ fvRsCtx: { attributes: { tnFvCtxName: 'ctx1' } } }, { fvSubnet: { attributes: { ip: '10.1.0.1/24' } } }],
          },
        },
        {
          fvAp: {
            attributes: { name: 'app' },
            children: [
              {
                fvAEPg: {
                  attributes: { name: 'web' },
                  children: [
                    { fvRsBd: { attributes: { tnFvBDName: 'bd1' } } },
                    { fvRsPathAtt: { attributes: { tDn: 'topology/pod-1/paths-101/pathep-[eth1/1]', encap: 'vlan-100' } } },
                  ],
                },
              },
            ],
          },
        },
      ]),
    );
    assert.ok(m.get('uni/tn-acT/BD-bd1/subnet-[10.1.0.1/24]'));
    assert.ok(m.get('uni/tn-acT/ap-app/epg-web/rspathAtt-[topology/pod-1/paths-101/pathep-[eth1/1]]'));
    assert.deepEqual(
      m.queryDn('uni/tn-acT', { target: 'children' }).map((w) => Object.keys(w)[0]),
      ['fvBD', 'fvAp', 'fvCtx'],
    );
    const epgs = m.queryDn('uni/tn-acT', { target: 'subtree', targetClasses: ['fvAEPg'], rspSubtree: 'children' });
    assert.equal(epgs.length, 1);
    assert.equal(epgs[0]?.fvAEPg?.attributes.dn, 'uni/tn-acT/ap-app/epg-web');
    assert.equal(epgs[0]?.fvAEPg?.children?.length, 2);
    assert.equal(m.queryClass('fvSubnet').length, 1);
    const full = m.queryDn('uni/tn-acT', { rspSubtree: 'full' });
    assert.equal(full[0]?.fvTenant?.children?.length, 3);
    assert.deepEqual(m.queryDn('uni/tn-missing'), []);
  });

  it('refuses a class under a parent that cannot hold it, and a missing parent', () => {
    const m = new Mit();
    refused(() => m.post('uni/tn-acT', tenant([{ fvAEPg: { attributes: { name: 'x' } } }])), '104', /fvTenant cannot contain fvAEPg/);
    refused(() => m.post('uni/tn-acT/ap-a', { fvAp: { attributes: { name: 'a' } } }), '102', /uni\/tn-acT/);
    refused(() => m.post('uni/tn-acT', tenant([{ fvNoSuch: { attributes: {} } }])), '121', /unknown class/);
    assert.equal(m.size, 1, 'nothing was created by a refused request');
  });

  it('checks the RN against the naming properties', () => {
    const m = new Mit();
    refused(() => m.post('uni/tn-other', { fvTenant: { attributes: { name: 'acT' } } }), '107', /rn 'tn-acT'/);
    m.post('uni/tn-acT', tenant());
    refused(() => m.post('uni/tn-acT', tenant([{ fvCtx: { attributes: { dn: 'uni/tn-acT/ctx-a', name: 'b' } } }])), '107', /ctx-b/);
  });

  it('checks encap, tDn forms, etherT/prot, port ranges and scope', () => {
    const m = new Mit();
    m.post('uni/tn-acT', tenant([{ fvAp: { attributes: { name: 'a' }, children: [{ fvAEPg: { attributes: { name: 'g' } } }] } }]));
    const epg = (child: unknown) => () => m.post('uni/tn-acT/ap-a/epg-g', { fvAEPg: { attributes: { name: 'g' }, children: [child] } });
    refused(epg({ fvRsPathAtt: { attributes: { tDn: 'topology/pod-1/paths-101/pathep-[eth1/1]', encap: 'vlan-4095' } } }), '103', /encap/);
    refused(epg({ fvRsPathAtt: { attributes: { tDn: 'topology/pod-1/paths-101/pathep-[eth1/1]' } } }), '103', /encap is required/);
    refused(epg({ fvRsPathAtt: { attributes: { tDn: 'pod-1/paths-101', encap: 'vlan-5' } } }), '103', /tDn/);
    refused(epg({ fvRsNodeAtt: { attributes: { tDn: 'topology/pod-1/paths-101', encap: 'vlan-5' } } }), '103', /tDn/);
    refused(epg({ fvRsDomAtt: { attributes: { tDn: 'uni/foo-x' } } }), '103', /tDn/);
    m.post('uni/tn-acT/ap-a/epg-g', {
      fvAEPg: { attributes: {}, children: [{ fvRsNodeAtt: { attributes: { tDn: 'topology/pod-1/node-101', encap: 'vlan-5' } } }] },
    });
    const entry = (attrs: Record<string, string>) => () =>
      m.post('uni/tn-acT/flt-f', {
        vzFilter: { attributes: { name: 'f' }, children: [{ vzEntry: { attributes: { name: 'e', ...attrs } } }] },
      });
    refused(entry({ etherT: 'ip', prot: 'tcp', dFromPort: '90', dToPort: '80' }), '103', /must not be above/);
    refused(entry({ etherT: 'ip', prot: 'icmp', dFromPort: '80', dToPort: '80' }), '103', /ports need prot tcp or udp/);
    refused(entry({ etherT: 'ipx', prot: 'tcp' }), '103', /etherT/);
    refused(entry({ etherT: 'ip', prot: 'sctpx' }), '103', /prot/);
    refused(entry({ etherT: 'ip', prot: 'tcp', dFromPort: '70000', dToPort: '70000' }), '103', /dFromPort/);
    entry({ etherT: 'ip', prot: 'tcp', dFromPort: 'http', dToPort: '8080' })();
    refused(() => m.post('uni/tn-acT/brc-c', { vzBrCP: { attributes: { name: 'c', scope: 'world' } } }), '103', /scope/);
    refused(() => m.post('uni/tn-acT', { fvTenant: { attributes: { name: 'acT', colour: 'red' } } }), '121', /unknown property colour/);
  });

  it('modifies in place, deletes subtrees by status deleted and by DN, and honours created/modified', () => {
    const m = new Mit();
    m.post('uni/tn-acT', tenant([{ fvAp: { attributes: { name: 'a' }, children: [{ fvAEPg: { attributes: { name: 'g' } } }] } }]));
    m.post('uni/tn-acT/ap-a/epg-g', { fvAEPg: { attributes: { name: 'g', descr: 'changed' } } });
    assert.equal(m.get('uni/tn-acT/ap-a/epg-g')?.attrs.descr, 'changed');
    refused(() => m.post('uni/tn-acT/ap-a', { fvAp: { attributes: { name: 'a', status: 'created' } } }), '103', /already exists/);
    refused(() => m.post('uni/tn-acT/ap-b', { fvAp: { attributes: { name: 'b', status: 'modified' } } }), '102', /not found/);
    m.post('uni/tn-acT', tenant([{ fvAp: { attributes: { name: 'a', status: 'deleted' } } }]));
    assert.equal(m.get('uni/tn-acT/ap-a'), undefined);
    assert.equal(m.get('uni/tn-acT/ap-a/epg-g'), undefined, 'the subtree goes too');
    assert.equal(m.delete('uni/tn-acT'), true);
    assert.equal(m.delete('uni/tn-acT'), false);
    assert.equal(m.size, 1);
  });

  it('dumps and loads the same tree (the state file)', () => {
    const m = new Mit();
    m.post('uni/tn-acT', tenant([{ fvCtx: { attributes: { name: 'c', annotation: 'orchestrator:netloom' } } }]));
    const back = Mit.load(JSON.parse(JSON.stringify(m.dump())) as ReturnType<Mit['dump']>);
    assert.deepEqual(back.queryDn('uni/tn-acT', { rspSubtree: 'full' }), m.queryDn('uni/tn-acT', { rspSubtree: 'full' }));
  });
});
