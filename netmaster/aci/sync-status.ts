/**
 * What `netctl aci-gw inspect`, an app profile's and a group's inspect show of the gateway: per
 * tenant, in sync / pending / error with the APIC's message, and when that became so. The leader's
 * gateway keeps it and writes it to etcd (sync-store.ts) so that every replica shows it.
 */
export type SyncState = 'in sync' | 'pending' | 'error';

export interface TenantSync {
  state: SyncState;
  /** the APIC's error, or why the intent cannot be sent */
  message?: string;
  /** ISO time of the last change of state */
  since: string;
  /** the last failure, kept once the tenant is in sync again */
  lastError?: { message: string; at: string };
  /** objects posted and deleted by the last sync that sent anything */
  posted?: number;
  deleted?: number;
}

/** The gateway as a whole: its APIC, and a message when it cannot run at all. */
export interface AciGatewayState {
  apic: string;
  /** 'not configured' (global networkInfraType or aciGw missing), 'running', or the settings' error */
  gateway: string;
  /** the netmaster replica running it (the leader) */
  replica?: string;
}

/** The gateway's view for inspect. */
export interface AciSyncView extends AciGatewayState {
  tenants: Record<string, TenantSync>;
}
