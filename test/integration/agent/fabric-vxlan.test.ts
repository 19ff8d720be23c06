/**
 * netplugin on the lab's real OVS, VXLAN mode (userspace tunnels, VTEPs on br-phy): the same
 * checks as the VLAN test, plus the container MTU of 1450.
 */
import { defineFabricTests } from './fabric-cases';

describe('netplugin agents on the lab, VXLAN networks', function () {
  defineFabricTests(this, 'vxlan');
});
