/**
 * The one line a person reads for a server error: its message, then the field and code it named
 * (`subnet overlaps t1:n1 (field: subnet, code: CONFLICT)`). netctl prints it after `netctl: `;
 * netmaster sends it as the text body of the errors it answers Contiv's own client with
 * (netmaster/rest/contiv-client.ts), so both clients show the same words.
 */
export function errorText(message: string, field?: string, code?: string): string {
  const msg = message.replace(/\s*\n\s*/g, ' ').trim();
  const extra: string[] = [];
  if (field !== undefined && field !== '') extra.push(`field: ${field}`);
  if (code !== undefined && code !== '') extra.push(`code: ${code}`);
  return extra.length > 0 ? `${msg} (${extra.join(', ')})` : msg;
}
