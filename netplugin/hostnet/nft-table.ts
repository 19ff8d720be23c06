/**
 * Loading one nftables table that netloom owns as a whole (the host-network table, the routed
 * endpoints' policy table): one `nft -f` transaction that creates the table when missing, deletes
 * it and adds the new text, so the kernel holds exactly that text, or, when nft refuses any of
 * it, keeps what it had (nftables applies a file all or nothing).
 */
import type { CommandRunner } from '../../lib/exec';

/** The `nft -f` script that makes the kernel hold exactly `text` as table FAMILY NAME (no such table when ''). */
export function replaceTableScript(family: string, name: string, text: string): string {
  // `table X` first creates the table when missing, so the delete never fails
  return `table ${family} ${name}\ndelete table ${family} ${name}\n${text}`;
}

/** Load `text` as the table, atomically ('' removes it). Throws COMMAND_FAILED (the old table stays) when nft refuses. */
export async function loadNftTable(runner: CommandRunner, family: string, name: string, text: string): Promise<void> {
  await runner('nft', ['-f', '-'], { input: replaceTableScript(family, name, text) });
}
