/** MAC addresses netloom makes: random, locally administered, unicast (02:xx:xx:xx:xx:xx). */
import { randomBytes } from 'node:crypto';

export function randomMac(): string {
  return `02:${[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}
