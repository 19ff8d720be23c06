import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { NetloomError } from '../../../lib/errors';
import { grpcCallError } from '../../../lib/grpc-call-error';

const failure = (code: grpc.status, details: string): Partial<grpc.ServiceError> =>
  Object.assign(new Error(`${code} ${details}`), { code, details });

describe('lib: a failed gRPC call to a daemon as a NetloomError', () => {
  it('names the daemon and the call, quotes the daemon, and maps the status codes', () => {
    const cases: Array<[grpc.status, NetloomError['code']]> = [
      [grpc.status.NOT_FOUND, 'NOT_FOUND'],
      [grpc.status.UNAVAILABLE, 'UNAVAILABLE'],
      [grpc.status.DEADLINE_EXCEEDED, 'TIMEOUT'],
      [grpc.status.ALREADY_EXISTS, 'ALREADY_EXISTS'],
      [grpc.status.INVALID_ARGUMENT, 'INVALID_ARGUMENT'],
      [grpc.status.UNKNOWN, 'COMMAND_FAILED'],
      [grpc.status.INTERNAL, 'COMMAND_FAILED'],
    ];
    for (const [status, code] of cases) {
      const e = grpcCallError('gobgp', 'AddPeer', failure(status, 'peer already exists'));
      assert.equal(e.code, code, grpc.status[status]);
      assert.equal(e.message, 'gobgp AddPeer: peer already exists');
      assert.deepEqual(e.details, { rpc: 'AddPeer', grpcCode: status });
    }
  });

  it('a plain error keeps its message; a NetloomError passes as it is', () => {
    assert.equal(grpcCallError('CRI', 'Version', new Error('socket gone')).message, 'CRI Version: socket gone');
    const mine = new NetloomError('DECODE_ERROR', 'bad reply', { field: 'x' });
    assert.equal(grpcCallError('CRI', 'Version', mine), mine);
  });
});
