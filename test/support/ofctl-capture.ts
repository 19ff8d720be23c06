/**
 * Capture the exact OpenFlow messages `ovs-ofctl` sends: start a RecordingSwitch on 127.0.0.1,
 * run ovs-ofctl against it (the argument `TARGET` is replaced by tcp:127.0.0.1:PORT), and return
 * every message received, in order. Used by the golden wire tests to compare our encoder with
 * the reference one.
 */
import { run } from '../../lib/exec';
import { startRecordingSwitch } from './recording-switch';

export interface CaptureOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

export async function captureOfctl(args: readonly string[], opts: CaptureOptions = {}): Promise<Buffer[]> {
  const sw = await startRecordingSwitch();
  try {
    const target = `tcp:127.0.0.1:${sw.port}`;
    await run(
      'ovs-ofctl',
      args.map((a) => (a === 'TARGET' ? target : a)),
      { timeoutMs: opts.timeoutMs ?? 30_000, ...(opts.env ? { env: opts.env } : {}) },
    );
    return [...sw.received];
  } finally {
    await sw.close();
  }
}

/** A copy of an encoded message with its xid set to 0 (xids differ between encoders). */
export function withoutXid(msg: Buffer): Buffer {
  const b = Buffer.from(msg);
  b.writeUInt32BE(0, 4);
  // a bundled message carries the same xid in its inner header
  if (b[1] === 4 && b.length >= 32 && b.readUInt32BE(8) === 0x4f4e4600 && b.readUInt32BE(12) === 2301) b.writeUInt32BE(0, 28);
  return b;
}
