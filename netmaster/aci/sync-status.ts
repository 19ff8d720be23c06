/**
 * What `netctl aci-gw inspect` shows of the gateway: per tenant, in sync / pending / error with
 * the APIC's message, and when that became so. Kept by the leader's gateway in memory.
 */
export type SyncState = 'in sync' | 'pending' | 'error';

export interface TenantSync {
  state: SyncState;
  /** the APIC's error, or why the intent cannot be sent */
  message?: string;
  /** ISO time of the last change of state */
  since: string;
  /** objects posted and deleted by the last sync that sent anything */
  posted?: number;
  deleted?: number;
}

/** The gateway's view for inspect: its tenants, and a message when it cannot run at all. */
export interface AciSyncView {
  apic: string;
  /** 'not configured' (global networkInfraType or aciGw missing), 'running', or the settings' error */
  gateway: string;
  tenants: Record<string, TenantSync>;
}

/** Where inspect finds the view (set on the leader while the gateway runs). */
export interface AciSyncReads {
  view(): AciSyncView;
}
