/**
 * netplugin on the lab's real OVS, VLAN mode: two real agent processes (one per host namespace,
 * fed by a fabric file), containers plugged in through the real CNI shim, real ping and TCP across
 * hosts; other networks and other tenants unreachable; two tenants with the same subnet side by side.
 */
import { defineFabricTests } from './fabric-cases';

describe('netplugin agents on the lab, VLAN networks', function () {
  defineFabricTests(this, 'vlan');
});
