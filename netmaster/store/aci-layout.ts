/**
 * The etcd keys of the ACI gateway's sync state, under `/netloom/v1/aci/` (outside `alloc/` and
 * `idx/`, so the consistency check neither reads nor repairs them). Written by the leading
 * replica's gateway only when a value changes; read by every replica's inspect:
 * - `aci/gateway`: the APIC, the gateway's state and the replica running it;
 * - `aci/sync/<tenant>`: one tenant's sync (state, message, since, last error, counts).
 */
import { ROOT } from './layout';

export const ACI_ROOT = `${ROOT}aci/`;

export const aciLayout = {
  root: ACI_ROOT,
  gateway: `${ACI_ROOT}gateway`,
  tenantSyncPrefix: `${ACI_ROOT}sync/`,
  tenantSync: (tenant: string) => `${ACI_ROOT}sync/${tenant}`,
};
