/** The `docker network create` builder the CNM and lab tests share. */
import { strict as assert } from 'node:assert';
import { netloomNetworkCreate } from '../../support/lab-cli';

describe('netloomNetworkCreate', () => {
  it("uses Docker's IPAM unless told netloom's, and puts the name last", () => {
    assert.deepEqual(netloomNetworkCreate('nl3', { opts: { tenant: 't1', network: 'n3' }, subnet: '10.57.0.0/24' }), [
      'network',
      'create',
      '-d',
      'netloom',
      '-o',
      'tenant=t1',
      '-o',
      'network=n3',
      '--subnet',
      '10.57.0.0/24',
      'nl3',
    ]);
  });

  it("passes netloom's IPAM driver with its options, and no subnet when none is given", () => {
    assert.deepEqual(netloomNetworkCreate('nlvx', { opts: { tenant: 'blue', network: 'vx' }, ipam: { tenant: 'blue' } }), [
      'network',
      'create',
      '-d',
      'netloom',
      '--ipam-driver',
      'netloom',
      '--ipam-opt',
      'tenant=blue',
      '-o',
      'tenant=blue',
      '-o',
      'network=vx',
      'nlvx',
    ]);
  });
});
