/**
 * Names for the ERROR messages a switch sends (OpenFlow 1.3 ofp_error_type / codes, plus the ONF
 * bundle extension's experimenter errors that OVS uses on 1.3), and the typed error a rejected
 * request carries, so that callers and logs see `FLOW_MOD_FAILED/BAD_TABLE_ID`, not `5/2`.
 */
import { NetloomError } from '../../lib/errors';
import { OfErrorFields, ONF_EXPERIMENTER_ID, OFPET_EXPERIMENTER } from './connection-wire';

const TYPES: ReadonlyArray<[string, readonly string[]]> = [
  ['HELLO_FAILED', ['INCOMPATIBLE', 'EPERM']],
  [
    'BAD_REQUEST',
    [
      'BAD_VERSION',
      'BAD_TYPE',
      'BAD_MULTIPART',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'EPERM',
      'BAD_LEN',
      'BUFFER_EMPTY',
      'BUFFER_UNKNOWN',
      'BAD_TABLE_ID',
      'IS_SLAVE',
      'BAD_PORT',
      'BAD_PACKET',
      'MULTIPART_BUFFER_OVERFLOW',
    ],
  ],
  [
    'BAD_ACTION',
    [
      'BAD_TYPE',
      'BAD_LEN',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'BAD_OUT_PORT',
      'BAD_ARGUMENT',
      'EPERM',
      'TOO_MANY',
      'BAD_QUEUE',
      'BAD_OUT_GROUP',
      'MATCH_INCONSISTENT',
      'UNSUPPORTED_ORDER',
      'BAD_TAG',
      'BAD_SET_TYPE',
      'BAD_SET_LEN',
      'BAD_SET_ARGUMENT',
    ],
  ],
  [
    'BAD_INSTRUCTION',
    [
      'UNKNOWN_INST',
      'UNSUP_INST',
      'BAD_TABLE_ID',
      'UNSUP_METADATA',
      'UNSUP_METADATA_MASK',
      'BAD_EXPERIMENTER',
      'BAD_EXP_TYPE',
      'BAD_LEN',
      'EPERM',
    ],
  ],
  [
    'BAD_MATCH',
    [
      'BAD_TYPE',
      'BAD_LEN',
      'BAD_TAG',
      'BAD_DL_ADDR_MASK',
      'BAD_NW_ADDR_MASK',
      'BAD_WILDCARDS',
      'BAD_FIELD',
      'BAD_VALUE',
      'BAD_MASK',
      'BAD_PREREQ',
      'DUP_FIELD',
      'EPERM',
    ],
  ],
  ['FLOW_MOD_FAILED', ['UNKNOWN', 'TABLE_FULL', 'BAD_TABLE_ID', 'OVERLAP', 'EPERM', 'BAD_TIMEOUT', 'BAD_COMMAND', 'BAD_FLAGS']],
  [
    'GROUP_MOD_FAILED',
    [
      'GROUP_EXISTS',
      'INVALID_GROUP',
      'WEIGHT_UNSUPPORTED',
      'OUT_OF_GROUPS',
      'OUT_OF_BUCKETS',
      'CHAINING_UNSUPPORTED',
      'WATCH_UNSUPPORTED',
      'LOOP',
      'UNKNOWN_GROUP',
      'CHAINED_GROUP',
      'BAD_TYPE',
      'BAD_COMMAND',
      'BAD_BUCKET',
      'BAD_WATCH',
      'EPERM',
    ],
  ],
  ['PORT_MOD_FAILED', ['BAD_PORT', 'BAD_HW_ADDR', 'BAD_CONFIG', 'BAD_ADVERTISE', 'EPERM']],
  ['TABLE_MOD_FAILED', ['BAD_TABLE', 'BAD_CONFIG', 'EPERM']],
  ['QUEUE_OP_FAILED', ['BAD_PORT', 'BAD_QUEUE', 'EPERM']],
  ['SWITCH_CONFIG_FAILED', ['BAD_FLAGS', 'BAD_LEN', 'EPERM']],
  ['ROLE_REQUEST_FAILED', ['STALE', 'UNSUP', 'BAD_ROLE']],
  [
    'METER_MOD_FAILED',
    [
      'UNKNOWN',
      'METER_EXISTS',
      'INVALID_METER',
      'UNKNOWN_METER',
      'BAD_COMMAND',
      'BAD_FLAGS',
      'BAD_RATE',
      'BAD_BURST',
      'BAD_BAND',
      'BAD_BAND_VALUE',
      'OUT_OF_METERS',
      'OUT_OF_BANDS',
    ],
  ],
  ['TABLE_FEATURES_FAILED', ['BAD_TABLE', 'BAD_METADATA', 'BAD_TYPE', 'BAD_LEN', 'BAD_ARGUMENT', 'EPERM']],
];

/** ONF EXT-230 bundle failure codes, sent on OpenFlow 1.3 as ONF experimenter errors 2300.. */
const ONF_BUNDLE_CODES: readonly string[] = [
  'UNKNOWN',
  'EPERM',
  'BAD_ID',
  'BUNDLE_EXIST',
  'BUNDLE_CLOSED',
  'OUT_OF_BUNDLES',
  'BAD_TYPE',
  'BAD_FLAGS',
  'MSG_BAD_LEN',
  'MSG_BAD_XID',
  'MSG_UNSUP',
  'MSG_CONFLICT',
  'MSG_TOO_MANY',
  'MSG_FAILED',
  'TIMEOUT',
  'BUNDLE_IN_PROGRESS',
];
const ONF_BUNDLE_BASE = 2300;

export interface OfErrorName {
  type: string;
  code: string;
}

/** The symbolic names of an error's type and code (numbers in the names when unknown). */
export function nameOfError(e: Pick<OfErrorFields, 'type' | 'code' | 'experimenter'>): OfErrorName {
  if (e.type === OFPET_EXPERIMENTER) {
    if (e.experimenter === ONF_EXPERIMENTER_ID && e.code >= ONF_BUNDLE_BASE && e.code < ONF_BUNDLE_BASE + ONF_BUNDLE_CODES.length) {
      return { type: 'BUNDLE_FAILED', code: ONF_BUNDLE_CODES[e.code - ONF_BUNDLE_BASE] as string };
    }
    return { type: `EXPERIMENTER(0x${(e.experimenter ?? 0).toString(16)})`, code: String(e.code) };
  }
  const t = TYPES[e.type];
  if (!t) return { type: `TYPE_${e.type}`, code: String(e.code) };
  return { type: t[0], code: t[1][e.code] ?? `CODE_${e.code}` };
}

/** The ERROR a switch returned for a request, as a typed error. */
export class OfSwitchError extends NetloomError {
  readonly ofType: number;
  readonly ofCode: number;
  readonly typeName: string;
  readonly codeName: string;
  readonly experimenter: number | undefined;
  readonly xid: number;
  /** the bytes the switch echoed back (start of the offending message, or text for HELLO_FAILED) */
  readonly data: Buffer;

  constructor(fields: OfErrorFields, xid: number, context = 'request') {
    const n = nameOfError(fields);
    super('COMMAND_FAILED', `switch rejected ${context} (xid ${xid}): ${n.type}/${n.code}`, {
      field: 'xid',
      details: { xid, type: n.type, code: n.code, ofType: fields.type, ofCode: fields.code },
    });
    this.name = 'OfSwitchError';
    this.ofType = fields.type;
    this.ofCode = fields.code;
    this.typeName = n.type;
    this.codeName = n.code;
    this.experimenter = fields.experimenter;
    this.xid = xid;
    this.data = fields.data;
  }
}
