/**
 * The typed OpenFlow 1.3 message model: one discriminated union `OfMessage` on the string field
 * `type`, with matches (OXM/NXM fields), instructions and actions (including the Nicira extensions
 * Open vSwitch needs) as plain data. `codec.ts` turns these into bytes and back; `text/` turns them
 * into ovs-ofctl flow syntax and back. Nothing here knows about tenants or sockets.
 */

/** OpenFlow 1.3 wire version. */
export const OFP13_VERSION = 0x04;

/** Reserved port numbers (OFPP_*). */
export const OFPP = {
  MAX: 0xffffff00,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

export const OFPG_ANY = 0xffffffff;
/** OFPM_*: the highest meter id a switch may hold, and "every meter" in meter requests. */
export const OFPM = { MAX: 0xffff0000, ALL: 0xffffffff } as const;
export const OFPG_ALL = 0xfffffffc;
export const OFP_NO_BUFFER = 0xffffffff;
export const OFPCML_NO_BUFFER = 0xffff;
/** The "no table" value of resubmit/ct recirculation tables. */
export const NO_TABLE = 0xff;

/** OXM and NXM field names (ovs-fields(7) names, the long form). */
export type OxmFieldName =
  | 'in_port'
  | 'in_phy_port'
  | 'metadata'
  | 'eth_dst'
  | 'eth_src'
  | 'eth_type'
  | 'vlan_vid'
  | 'vlan_pcp'
  | 'ip_dscp'
  | 'ip_ecn'
  | 'ip_proto'
  | 'ipv4_src'
  | 'ipv4_dst'
  | 'tcp_src'
  | 'tcp_dst'
  | 'udp_src'
  | 'udp_dst'
  | 'sctp_src'
  | 'sctp_dst'
  | 'icmpv4_type'
  | 'icmpv4_code'
  | 'arp_op'
  | 'arp_spa'
  | 'arp_tpa'
  | 'arp_sha'
  | 'arp_tha'
  | 'ipv6_src'
  | 'ipv6_dst'
  | 'ipv6_label'
  | 'icmpv6_type'
  | 'icmpv6_code'
  | 'nd_target'
  | 'nd_sll'
  | 'nd_tll'
  | 'mpls_label'
  | 'mpls_tc'
  | 'mpls_bos'
  | 'pbb_isid'
  | 'tunnel_id'
  | 'ipv6_exthdr'
  | 'reg0'
  | 'reg1'
  | 'reg2'
  | 'reg3'
  | 'reg4'
  | 'reg5'
  | 'reg6'
  | 'reg7'
  | 'reg8'
  | 'reg9'
  | 'reg10'
  | 'reg11'
  | 'reg12'
  | 'reg13'
  | 'reg14'
  | 'reg15'
  | 'xreg0'
  | 'xreg1'
  | 'xreg2'
  | 'xreg3'
  | 'xreg4'
  | 'xreg5'
  | 'xreg6'
  | 'xreg7'
  | 'tun_ipv4_src'
  | 'tun_ipv4_dst'
  | 'pkt_mark'
  | 'conj_id'
  | 'ct_state'
  | 'ct_zone'
  | 'ct_mark'
  | 'ct_label'
  | 'ip_ttl'
  | 'ip_frag'
  | 'tcp_flags'
  | 'tun_flags'
  | 'dp_hash'
  | 'recirc_id'
  | 'actset_output'
  | 'vlan_tci';

/**
 * A field value: a number for fields up to 32 bits, a bigint for 64- and 128-bit fields, a string
 * for MAC ("aa:bb:cc:dd:ee:ff"), IPv4 (dotted quad) and IPv6 (any RFC 4291 form) fields.
 */
export type OxmValue = number | bigint | string;

/** One match entry (or the field of a set_field action; then `mask` only for reg_load2). */
export interface KnownOxm {
  field: OxmFieldName;
  value: OxmValue;
  mask?: OxmValue;
}

/** A match entry of a field this codec does not know, kept as raw payload so nothing is lost. */
export interface RawOxm {
  field: 'raw';
  oxmClass: number;
  oxmField: number;
  /** present for experimenter classes (0xffff) */
  experimenter?: number;
  hasMask: boolean;
  /** value, followed by mask when hasMask (experimenter id excluded) */
  payload: Buffer;
}

export type OxmField = KnownOxm | RawOxm;

/** An OpenFlow 1.3 match: OXM entries in wire order. An empty list matches everything. */
export type Match = OxmField[];

/** A bit range of a field, as NXM actions (load, move, learn, ct zone) name it: `field[ofs..ofs+nBits-1]`. */
export interface FieldRef {
  /** a known field, or the raw 32-bit NXM/OXM header of an unknown one */
  field: OxmFieldName | number;
  ofs: number;
  nBits: number;
}

export interface LearnSpec {
  nBits: number;
  src: { kind: 'field'; ref: FieldRef } | { kind: 'imm'; value: bigint };
  dst: { kind: 'match'; ref: FieldRef } | { kind: 'load'; ref: FieldRef } | { kind: 'output' };
}

/** NAT flags of the Nicira nat action. */
export const NX_NAT_F = { SRC: 1, DST: 2, PERSISTENT: 4, PROTO_HASH: 8, PROTO_RANDOM: 16 } as const;
/** ct() flags. */
export const NX_CT_F = { COMMIT: 1, FORCE: 2 } as const;

export type Action =
  | { type: 'output'; port: number; maxLen: number }
  | { type: 'group'; groupId: number }
  | { type: 'set_queue'; queueId: number }
  | { type: 'push_vlan'; ethertype: number }
  | { type: 'pop_vlan' }
  | { type: 'push_mpls'; ethertype: number }
  | { type: 'pop_mpls'; ethertype: number }
  | { type: 'dec_nw_ttl' }
  | { type: 'set_nw_ttl'; ttl: number }
  | { type: 'set_mpls_ttl'; ttl: number }
  | { type: 'dec_mpls_ttl' }
  | { type: 'copy_ttl_out' }
  | { type: 'copy_ttl_in' }
  | { type: 'set_field'; field: OxmField }
  /**
   * Nicira resubmit; inPort OFPP_IN_PORT (0xfffffff8) means the packet's own, table 255 means none.
   * Encoded as NXAST_RESUBMIT_TABLE (as ovs-ofctl does) unless `legacy` (NXAST_RESUBMIT, table 255).
   */
  | { type: 'resubmit'; inPort: number; table: number; legacy?: boolean }
  /** Nicira conjunction; `clause` is 0-based on the wire (ovs-ofctl text k is clause+1). */
  | { type: 'conjunction'; id: number; clause: number; nClauses: number }
  | {
      type: 'ct';
      flags: number;
      /** zone taken from a field (then zoneImm is ignored) */
      zoneSrc?: FieldRef;
      zoneImm: number;
      recircTable: number;
      alg: number;
      actions: Action[];
    }
  | {
      type: 'nat';
      flags: number;
      ipMin?: string;
      ipMax?: string;
      portMin?: number;
      portMax?: number;
    }
  /** Nicira NXAST_REG_LOAD: load `value` into dst's bit range. */
  | { type: 'reg_load'; dst: FieldRef; value: bigint }
  /** Nicira NXAST_REG_LOAD2: a (possibly masked) set_field expressed as an OXM entry. */
  | { type: 'reg_load2'; field: OxmField }
  | { type: 'reg_move'; src: FieldRef; dst: FieldRef }
  | {
      type: 'learn';
      idleTimeout: number;
      hardTimeout: number;
      priority: number;
      cookie: bigint;
      flags: number;
      tableId: number;
      finIdleTimeout: number;
      finHardTimeout: number;
      specs: LearnSpec[];
    }
  | { type: 'note'; data: Buffer }
  /** Nicira controller action (NXAST_CONTROLLER, or NXAST_CONTROLLER2 when userdata/pause/meterId is set). */
  | { type: 'controller'; maxLen: number; controllerId: number; reason: number; userdata?: Buffer; pause?: boolean; meterId?: number }
  /** Nicira output to the port number held in a field range (NXAST_OUTPUT_REG). */
  | { type: 'output_reg'; src: FieldRef; maxLen: number }
  /** Nicira output truncating the packet to maxLen bytes (NXAST_OUTPUT_TRUNC). */
  | { type: 'output_trunc'; port: number; maxLen: number }
  /** Nicira exit: stop processing the action list (NXAST_EXIT). */
  | { type: 'exit' }
  /** Nicira dec_ttl with the controller ids to notify (NXAST_DEC_TTL_CNT_IDS). */
  | { type: 'dec_ttl_ids'; ids: number[] }
  /** Nicira fin_timeout: shorten the flow's timeouts once a TCP FIN/RST is seen (NXAST_FIN_TIMEOUT). */
  | { type: 'fin_timeout'; idleTimeout: number; hardTimeout: number }
  /** Nicira ct_clear (NXAST_CT_CLEAR). */
  | { type: 'ct_clear' }
  /** Nicira clone(actions): run actions on a copy of the packet (NXAST_CLONE). */
  | { type: 'clone'; actions: Action[] }
  /** Any other action, kept raw: `payload` is everything after the 4-byte type/length header. */
  | { type: 'raw'; actionType: number; payload: Buffer };

export type Instruction =
  | { type: 'goto_table'; tableId: number }
  | { type: 'write_metadata'; metadata: bigint; mask: bigint }
  | { type: 'write_actions'; actions: Action[] }
  | { type: 'apply_actions'; actions: Action[] }
  | { type: 'clear_actions' }
  | { type: 'meter'; meterId: number }
  | { type: 'raw'; instructionType: number; payload: Buffer };

export type FlowModCommand = 'add' | 'modify' | 'modify_strict' | 'delete' | 'delete_strict';
export const FLOW_MOD_COMMANDS: readonly FlowModCommand[] = ['add', 'modify', 'modify_strict', 'delete', 'delete_strict'];

/** OFPFF_* flow_mod flags. */
export const OFPFF = { SEND_FLOW_REM: 1, CHECK_OVERLAP: 2, RESET_COUNTS: 4, NO_PKT_COUNTS: 8, NO_BYT_COUNTS: 16 } as const;

export type GroupType = 'all' | 'select' | 'indirect' | 'ff';
export const GROUP_TYPES: readonly GroupType[] = ['all', 'select', 'indirect', 'ff'];
export type GroupModCommand = 'add' | 'modify' | 'delete';
export const GROUP_MOD_COMMANDS: readonly GroupModCommand[] = ['add', 'modify', 'delete'];

export interface Bucket {
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

/** OFPMF_* meter flags. */
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;
export type MeterModCommand = 'add' | 'modify' | 'delete';
export const METER_MOD_COMMANDS: readonly MeterModCommand[] = ['add', 'modify', 'delete'];

export type MeterBand =
  | { type: 'drop'; rate: number; burstSize: number }
  | { type: 'dscp_remark'; rate: number; burstSize: number; precLevel: number }
  | { type: 'experimenter'; rate: number; burstSize: number; experimenter: number };

export interface PortDesc {
  portNo: number;
  hwAddr: string;
  name: string;
  config: number;
  state: number;
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
  instructions: Instruction[];
}

export interface FlowStatsRequestBody {
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface GroupDesc {
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bands: { packetBandCount: bigint; byteBandCount: bigint }[];
}

export interface SwitchDesc {
  mfrDesc: string;
  hwDesc: string;
  swDesc: string;
  serialNum: string;
  dpDesc: string;
}

export type MultipartRequestBody =
  | { kind: 'desc' }
  | ({ kind: 'flow' } & FlowStatsRequestBody)
  | ({ kind: 'aggregate' } & FlowStatsRequestBody)
  | { kind: 'table' }
  | { kind: 'port_stats'; portNo: number }
  | { kind: 'port_desc' }
  | { kind: 'group_desc' }
  | { kind: 'meter_stats'; meterId: number }
  | { kind: 'meter_config'; meterId: number }
  /** any other multipart type, body kept raw */
  | { kind: 'raw'; mpType: number; data: Buffer };

export type MultipartReplyBody =
  | ({ kind: 'desc' } & SwitchDesc)
  | { kind: 'flow'; entries: FlowStats[] }
  | { kind: 'aggregate'; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { kind: 'table'; entries: TableStats[] }
  | { kind: 'port_stats'; entries: PortStats[] }
  | { kind: 'port_desc'; ports: PortDesc[] }
  | { kind: 'group_desc'; entries: GroupDesc[] }
  | { kind: 'meter_stats'; entries: MeterStats[] }
  | { kind: 'meter_config'; entries: MeterConfig[] }
  | { kind: 'raw'; mpType: number; data: Buffer };

/** OFPMPF_REQ_MORE / OFPMPF_REPLY_MORE */
export const OFPMPF_MORE = 1;

export type RoleName = 'nochange' | 'equal' | 'master' | 'slave';
export const ROLE_NAMES: readonly RoleName[] = ['nochange', 'equal', 'master', 'slave'];

export type BundleCtrlType =
  | 'open_request'
  | 'open_reply'
  | 'close_request'
  | 'close_reply'
  | 'commit_request'
  | 'commit_reply'
  | 'discard_request'
  | 'discard_reply';
export const BUNDLE_CTRL_TYPES: readonly BundleCtrlType[] = [
  'open_request',
  'open_reply',
  'close_request',
  'close_reply',
  'commit_request',
  'commit_reply',
  'discard_request',
  'discard_reply',
];
/** Bundle flags (OFPBF_*). */
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

/** Experimenter ids. */
export const NX_VENDOR_ID = 0x00002320;
export const ONF_VENDOR_ID = 0x4f4e4600;

/** ONF experimenter message types of the bundle extension (EXT-230, as OVS speaks it on OpenFlow 1.3). */
export const ONFT_BUNDLE_CONTROL = 2300;
export const ONFT_BUNDLE_ADD_MESSAGE = 2301;

/** The HELLO element listing the supported versions as a bitmap. */
export const OFPHET_VERSIONBITMAP = 1;

interface Xid {
  /** transaction id; the connection assigns it */
  xid: number;
}

export interface HelloMessage extends Xid {
  type: 'hello';
  /** versions listed in the version-bitmap element; undefined = no element (plain 8-byte hello) */
  versions?: number[];
  /** header version of a received hello (always 4 when we encode) */
  version?: number;
}

export interface ErrorMessage extends Xid {
  type: 'error';
  errType: number;
  code: number;
  /** experimenter id when errType is 0xffff (OFPET_EXPERIMENTER) */
  experimenter?: number;
  /** the offending request's bytes (at least its first 64 bytes), or text for HELLO_FAILED */
  data: Buffer;
  /** decoded names, e.g. 'OFPET_BAD_ACTION' / 'OFPBAC_BAD_OUT_PORT', 'OFPBFC_TIMEOUT'; ignored on encode */
  typeName?: string;
  codeName?: string;
  /** header of the offending request when data holds one: lets the connection correlate by xid */
  failedRequest?: { type: number; xid: number };
}

export interface EchoMessage extends Xid {
  type: 'echo_request' | 'echo_reply';
  data: Buffer;
}

export interface FeaturesReply extends Xid {
  type: 'features_reply';
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  capabilities: number;
}

export interface SwitchConfigMessage extends Xid {
  type: 'get_config_reply' | 'set_config';
  flags: number;
  missSendLen: number;
}

export interface PacketIn extends Xid {
  type: 'packet_in';
  bufferId: number;
  totalLen: number;
  reason: number;
  tableId: number;
  cookie: bigint;
  match: Match;
  data: Buffer;
}

export interface PacketOut extends Xid {
  type: 'packet_out';
  bufferId: number;
  inPort: number;
  actions: Action[];
  data: Buffer;
}

export interface FlowRemoved extends Xid {
  type: 'flow_removed';
  cookie: bigint;
  priority: number;
  reason: number;
  tableId: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  match: Match;
}

export interface PortStatus extends Xid {
  type: 'port_status';
  reason: number;
  port: PortDesc;
}

export interface FlowMod extends Xid {
  type: 'flow_mod';
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  command: FlowModCommand;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  flags: number;
  match: Match;
  instructions: Instruction[];
}

export interface GroupMod extends Xid {
  type: 'group_mod';
  command: GroupModCommand;
  groupType: GroupType;
  groupId: number;
  buckets: Bucket[];
}

export interface MeterMod extends Xid {
  type: 'meter_mod';
  command: MeterModCommand;
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export interface MultipartRequest extends Xid {
  type: 'multipart_request';
  flags: number;
  body: MultipartRequestBody;
}

export interface MultipartReply extends Xid {
  type: 'multipart_reply';
  flags: number;
  body: MultipartReplyBody;
}

export interface RoleMessage extends Xid {
  type: 'role_request' | 'role_reply';
  role: RoleName;
  generationId: bigint;
}

export interface BundleControl extends Xid {
  type: 'bundle_control';
  bundleId: number;
  ctrlType: BundleCtrlType;
  flags: number;
  /** raw property TLVs, normally empty */
  properties: Buffer;
}

export interface BundleAdd extends Xid {
  type: 'bundle_add';
  bundleId: number;
  flags: number;
  /** the wrapped request; by convention its xid equals the bundle_add's xid */
  message: OfMessage;
  properties: Buffer;
}

/** An experimenter message this codec has no model for (kept raw). */
export interface ExperimenterMessage extends Xid {
  type: 'experimenter';
  experimenter: number;
  expType: number;
  data: Buffer;
}

export type OfMessage =
  | HelloMessage
  | ErrorMessage
  | EchoMessage
  | ({ type: 'features_request' } & Xid)
  | FeaturesReply
  | ({ type: 'get_config_request' } & Xid)
  | SwitchConfigMessage
  | PacketIn
  | PacketOut
  | FlowRemoved
  | PortStatus
  | FlowMod
  | GroupMod
  | MeterMod
  | MultipartRequest
  | MultipartReply
  | ({ type: 'barrier_request' | 'barrier_reply' } & Xid)
  | RoleMessage
  | BundleControl
  | BundleAdd
  | ExperimenterMessage;

export type OfMessageType = OfMessage['type'];

/** Wire message type numbers (OFPT_*) of OpenFlow 1.3. */
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
} as const;

/** A flow_mod with OpenFlow's defaults (add, table 0, priority 0x8000, no buffer, any port/group). */
export function flowMod(fields: Partial<Omit<FlowMod, 'type'>> = {}): FlowMod {
  return {
    type: 'flow_mod',
    xid: 0,
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command: 'add',
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0x8000,
    bufferId: OFP_NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG_ANY,
    flags: 0,
    match: [],
    instructions: [],
    ...fields,
  };
}

/** The 8-byte header every OpenFlow message starts with. */
export interface OfHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}
