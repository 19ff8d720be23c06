/**
 * ovs-ofctl commands that change the switch (add-flow(s), mod-flows, del-flows, their --strict
 * forms, add/mod/del-group(s), add/mod/del-meter) mapped to the message each one sends for one
 * text argument, so callers and tests can say "what `ovs-ofctl del-flows br0 ip` sends".
 */
import type { OfMessage } from '../../ovs/openflow/messages';
import { textError } from './fields';
import { parseFlow } from './flow-text';
import { parseGroup, parseMeter } from './group-meter-text';

/** The message ovs-ofctl sends for `command` (e.g. 'del-flows', '--strict mod-flows') with `arg`. */
export function parseOfctlCommand(command: string, arg: string): OfMessage {
  const words = command.trim().split(/\s+/);
  const strict = words.includes('--strict');
  const cmd = words.filter((w) => w !== '--strict').join(' ');
  switch (cmd) {
    case 'add-flow':
    case 'add-flows':
      return parseFlow(arg, { command: 'add' });
    case 'mod-flows':
      return parseFlow(arg, { command: strict ? 'modify_strict' : 'modify' });
    case 'del-flows':
      return parseFlow(arg, { command: strict ? 'delete_strict' : 'delete' });
    case 'add-group':
    case 'add-groups':
      return parseGroup(arg, 'add');
    case 'mod-group':
      return parseGroup(arg, 'modify');
    case 'del-groups':
      return parseGroup(arg, 'delete');
    case 'add-meter':
      return parseMeter(arg, 'add');
    case 'mod-meter':
      return parseMeter(arg, 'modify');
    case 'del-meter':
      return parseMeter(arg, 'delete');
    default:
      throw textError('command', `unknown ovs-ofctl command '${command}'`);
  }
}
