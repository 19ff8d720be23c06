/**
 * What an ACI fabric cannot take, refused at the REST write so that nothing reaches the APIC:
 * aciGw binding DNs of the wrong form (always), and with global networkInfraType `aci` an aciGw
 * without domain or bindings, a rule ACI cannot express, an external contract DN that does not
 * resolve by name. `ACI_NEEDS` says which keys these checks read (validate.ts loads them).
 */
import { extContractName } from '../aci/desired-tree';
import { checkGwForms, gwSettings } from '../aci/gw-settings';
import { aciRuleProblem } from '../aci/rule-contracts';
import type { AciGw, ExtContractsGroup, Global, ObjectOf, ObjectType, Rule } from './schemas';
import type { IntentState } from './state';

/** The keys the ACI checks of an upsert of `type` read. */
export function aciNeeds(type: ObjectType): Array<{ type: ObjectType; key: string }> {
  if (type === 'rule' || type === 'aciGw' || type === 'extContractsGroup') return [{ type: 'global', key: 'global' }];
  if (type === 'global') return [{ type: 'aciGw', key: 'aciGw' }];
  return [];
}

const aciMode = (state: IntentState): boolean => state.global().networkInfraType === 'aci';

export function checkAciUpsert<T extends ObjectType>(type: T, obj: ObjectOf[T], state: IntentState): void {
  switch (type) {
    case 'rule': {
      const problem = aciMode(state) ? aciRuleProblem(obj as Rule) : undefined;
      if (problem) throw problem;
      return;
    }
    case 'aciGw':
      checkGwForms(obj as AciGw);
      if (aciMode(state)) gwSettings(obj as AciGw);
      return;
    case 'global': {
      const gw = (obj as Global).networkInfraType === 'aci' ? state.get('aciGw', 'aciGw') : undefined;
      if (gw) gwSettings(gw);
      return;
    }
    case 'extContractsGroup': {
      const c = obj as ExtContractsGroup;
      if (aciMode(state))
        for (const dn of c.contracts) extContractName(dn, c.tenantName, `external contracts group ${c.tenantName}:${c.contractsGroupName}`);
      return;
    }
    default:
      return;
  }
}
