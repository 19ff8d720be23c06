/**
 * A block: a slice of a network's subnet that netmaster gave to this host alone (issue 15 item 1).
 * The agent hands out the block's usable addresses without asking netmaster. `reserved` lists the
 * addresses inside the block that are not the agent's to give: the subnet's own network and
 * broadcast addresses, the gateway, and any address netmaster allocated before the block existed
 * (a static `--ip`), as netmaster tells at the claim.
 */
import { z } from 'zod';
import { NetloomError } from '../../lib/errors';
import { formatIpv4, parseIpv4, parseIpv4Cidr, type Ipv4Cidr } from './ipv4';

export const hostBlockSchema = z.object({
  /** e.g. '10.1.0.64/26' */
  cidr: z.string().min(1),
  /** the network the block belongs to, as the endpoint store names it */
  networkKey: z.string().min(1),
  reserved: z.array(z.string()),
});

export type HostBlock = z.infer<typeof hostBlockSchema>;

/** A block checked and turned into numbers. */
export interface ParsedBlock extends Ipv4Cidr {
  block: HostBlock;
  reserved: ReadonlySet<number>;
  /** how many addresses the agent may hand out */
  usable: number;
}

export function parseBlock(block: HostBlock): ParsedBlock {
  const cidr = parseIpv4Cidr(block.cidr, 'block.cidr');
  const reserved = new Set<number>();
  for (const r of block.reserved) {
    const n = parseIpv4(r, 'block.reserved');
    if (n < cidr.base || n >= cidr.base + cidr.size) {
      throw new NetloomError('INVALID_ARGUMENT', `block.reserved: ${r} is outside block ${block.cidr}`, { field: 'block.reserved' });
    }
    reserved.add(n);
  }
  return { ...cidr, block: { ...block, reserved: [...block.reserved] }, reserved, usable: cidr.size - reserved.size };
}

export function blockContains(b: ParsedBlock, address: number): boolean {
  return address >= b.base && address < b.base + b.size;
}

/** The usable addresses of a block, lowest first. */
export function* usableAddresses(b: ParsedBlock): Generator<number> {
  for (let a = b.base; a < b.base + b.size; a++) if (!b.reserved.has(a)) yield a;
}

export function blocksOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/**
 * The addresses of block `cidr` that are not the host's to give, from its network: the subnet's
 * own network and broadcast addresses and the gateway, when they fall inside the block (netmaster
 * claims only blocks where it holds no other address: netmaster/service/block-plan.ts).
 */
export function reservedInBlock(cidr: string, subnet: string, gateway: string): string[] {
  const b = parseIpv4Cidr(cidr, 'block.cidr');
  const s = parseIpv4Cidr(subnetBase(subnet), 'subnet');
  const out = new Set<number>();
  if (s.size > 2) {
    out.add(s.base);
    out.add(s.base + s.size - 1);
  }
  if (gateway !== '') out.add(parseIpv4(gateway, 'gateway'));
  return [...out]
    .filter((n) => n >= b.base && n < b.base + b.size)
    .sort((x, y) => x - y)
    .map(formatIpv4);
}

/** 'a.b.c.d/n' with the host bits cleared (a subnet may be written with its gateway, 10.1.0.1/24). */
function subnetBase(subnet: string): string {
  const [addr = '', len = ''] = subnet.split('/');
  const size = 2 ** (32 - Number(len));
  const n = parseIpv4(addr, 'subnet');
  return `${formatIpv4(n - (n % size))}/${len}`;
}
