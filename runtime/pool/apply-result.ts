// applyResult(): what a decision's cloud operation did, folded back into the state, with the
// reaction to each typed cloud error (pauses after quota and subnet errors, back-off after
// throttling and transient failures, as the peers do).
import { cloneState, cmp } from "./state.ts";
import type {
  Action,
  CloudError,
  CreateEniDecision,
  Decision,
  EniState,
  Millis,
  OperationResult,
  PoolState,
  Rng,
} from "./types.ts";

/** Subnet reported full: skip it this long (AWS waits 120 s after InsufficientCidr). */
export const SUBNET_PAUSE_MS = 2 * 60_000;
/** ENI quota reached: no ENI creation this long (Terway pauses 10 min after quota errors). */
export const ENI_QUOTA_PAUSE_MS = 10 * 60_000;
/** Credentials refused: every mutation waits this long; retrying faster only fills the logs. */
export const AUTH_PAUSE_MS = 5 * 60_000;
/** Back-off after throttled / transient errors: base x 2^(failures-1), capped, with jitter. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 60_000;

export interface ApplyOptions {
  /** Spreads back-off over [0.5, 1) of the delay so that many nodes do not retry in step. */
  rng?: Rng;
}

export function applyResult(
  state: PoolState,
  operationId: string,
  result: OperationResult,
  now: Millis,
  options: ApplyOptions = {},
): PoolState {
  const index = state.inflight.findIndex((op) => op.decision.id === operationId);
  if (index < 0) {
    const known = state.inflight.map((op) => op.decision.id).join(", ") || "none";
    throw new Error(`applyResult: operation ${JSON.stringify(operationId)} is not in flight; in flight: ${known}`);
  }
  const s = cloneState(state);
  const [op] = s.inflight.splice(index, 1);
  const d = (op as { decision: Decision }).decision;
  if (result.ok) {
    onSuccess(s, d, result);
    s.backoff[d.action] = { failures: 0, until: 0 };
  } else {
    onFailure(s, d, result.error, now, options.rng, result.detached === true);
  }
  return s;
}

// A syncInventory() may have seen the outcome first (the new ENI, the new IPs, the vanished
// ENI): results are merged, not refused, so that the agent's two views never fight.
function onSuccess(s: PoolState, d: Decision, result: { eni?: string; ips?: string[] }): void {
  switch (d.action) {
    case "bind": {
      const e = s.enis.find((x) => x.id === d.eni);
      const ips = newIps(s, d, d.eni, result.ips);
      if (e === undefined) return; // the ENI vanished meanwhile; the next sync tells the truth
      addIps(e, ips);
      takeFromSubnet(s, e.subnet, ips.length);
      return;
    }
    case "create-eni": {
      if (typeof result.eni !== "string" || result.eni === "") {
        throw new Error(
          `applyResult ${d.id} (create-eni): result.eni (${JSON.stringify(result.eni)}) must be the new ENI's id`,
        );
      }
      addNewEniIps(s, d, result.eni, newIps(s, d, result.eni, result.ips));
      return;
    }
    case "release": {
      const e = s.enis.find((x) => x.id === d.eni);
      if (e !== undefined) dropIps(s, e, d.ips);
      return;
    }
    case "delete-eni": {
      const e = s.enis.find((x) => x.id === d.eni);
      if (e !== undefined) giveToSubnet(s, e.subnet, e.ips.length);
      s.enis = s.enis.filter((x) => x.id !== d.eni);
      return;
    }
  }
}

function onFailure(
  s: PoolState,
  d: Decision,
  error: CloudError,
  now: Millis,
  rng: Rng | undefined,
  detached: boolean,
): void {
  // Undo the marks the decision set; what happens next is up to the next plan().
  if (d.action === "release") {
    const e = s.enis.find((x) => x.id === d.eni);
    for (const slot of e?.ips ?? []) if (d.ips.includes(slot.ip)) slot.releasing = false;
  }
  if (d.action === "delete-eni") {
    // Detached already: it stays marked, unusable, and rule 5e deletes it again. Else it is
    // still attached and usable as before.
    const e = s.enis.find((x) => x.id === d.eni);
    if (e !== undefined && !detached) e.deleting = false;
  }
  switch (error.kind) {
    case "eni-quota":
      s.paused.createUntil = now + ENI_QUOTA_PAUSE_MS;
      return;
    case "ip-quota": {
      // A create refused for quota pauses creates, also once its ENI is in the pool (progress)
      if (d.action === "create-eni") {
        s.paused.createUntil = now + ENI_QUOTA_PAUSE_MS;
        return;
      }
      const e = s.enis.find((x) => x.id === d.eni);
      if (e !== undefined) e.full = true;
      return;
    }
    case "subnet-exhausted": {
      const subnet =
        d.action === "create-eni" ? d.subnet : "eni" in d ? s.enis.find((x) => x.id === d.eni)?.subnet : undefined;
      const n = s.subnets.find((x) => x.id === subnet);
      if (n !== undefined) {
        n.available = 0;
        n.pausedUntil = now + SUBNET_PAUSE_MS;
      }
      return;
    }
    case "not-found":
      // The thing is gone in the cloud: an ENI (bind, release, delete) or the IPs (release).
      if (d.action === "release") {
        const e = s.enis.find((x) => x.id === d.eni);
        if (e !== undefined) dropIps(s, e, d.ips);
      } else if (d.action === "bind" || d.action === "delete-eni") {
        dropEni(s, d.eni);
      } else backOff(s, d.action, now, rng);
      return;
    case "auth":
      s.paused.allUntil = now + AUTH_PAUSE_MS;
      return;
    case "throttled":
    case "transient":
      backOff(s, d.action, now, rng);
      return;
  }
}

function backOff(s: PoolState, action: Action, now: Millis, rng: Rng | undefined): void {
  const failures = s.backoff[action].failures + 1;
  const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 1));
  const jitter = rng === undefined ? 1 : 0.5 + rng() / 2;
  s.backoff[action] = { failures, until: now + Math.round(delay * jitter) };
}

/** The result's addresses that `eni` does not hold yet. An address on another ENI is a contradiction. */
export function newIps(s: PoolState, d: Decision, eni: string, ips: string[] | undefined): string[] {
  if (!Array.isArray(ips) || ips.some((ip) => typeof ip !== "string" || ip === "")) {
    throw new Error(
      `applyResult ${d.id} (${d.action}): result.ips (${JSON.stringify(ips)}) must list the bound IP addresses`,
    );
  }
  const owner = new Map<string, EniState>();
  for (const e of s.enis) for (const slot of e.ips) owner.set(slot.ip, e);
  // An IP being released from another ENI that the cloud hands out again has left that ENI:
  // the cloud only gives out free addresses. Its release's answer may simply come later.
  for (const ip of ips) {
    const e = owner.get(ip);
    const slot = e?.id === eni ? undefined : e?.ips.find((x) => x.ip === ip);
    if (e !== undefined && slot?.releasing === true && slot.pod === null) {
      dropIps(s, e, [ip]);
      owner.delete(ip);
    }
  }
  const clash = ips.find((ip) => owner.has(ip) && owner.get(ip)?.id !== eni);
  if (clash !== undefined) {
    throw new Error(
      `applyResult ${d.id} (${d.action}): result.ips has ${clash}, which is bound to ${owner.get(clash)?.id}, not ${eni}; allowed: addresses of ${eni} only`,
    );
  }
  return [...new Set(ips)].filter((ip) => !owner.has(ip));
}

/**
 * A created ENI's new IPs into the pool (the ENI too, unless a resync or an earlier part of the
 * operation put it there), taken from its subnet's free IPs.
 */
export function addNewEniIps(s: PoolState, d: CreateEniDecision, id: string, ips: string[]): void {
  let e = s.enis.find((x) => x.id === id);
  if (e === undefined) {
    e = { id, subnet: d.subnet, primary: false, ips: [], full: false, deleting: false };
    s.enis.push(e);
    s.enis.sort((a, b) => cmp(a.id, b.id));
  }
  addIps(e, ips);
  takeFromSubnet(s, d.subnet, ips.length);
}

function addIps(e: EniState, ips: string[]): void {
  for (const ip of ips) e.ips.push({ ip, pod: null, coolUntil: 0, releasing: false });
  e.ips.sort((a, b) => cmp(a.ip, b.ip));
}

function dropIps(s: PoolState, e: EniState, ips: string[]): void {
  const gone = new Set(ips);
  const before = e.ips.length;
  // An IP that a pod holds is never released (plan only releases idle IPs), so none is lost here.
  e.ips = e.ips.filter((slot) => !gone.has(slot.ip) || slot.pod !== null);
  giveToSubnet(s, e.subnet, before - e.ips.length);
  e.full = false;
}

/** Pods on a vanished ENI are not dropped here: syncInventory() finds and reports them. */
function dropEni(s: PoolState, id: string): void {
  const e = s.enis.find((x) => x.id === id);
  if (e !== undefined && e.ips.every((slot) => slot.pod === null)) s.enis = s.enis.filter((x) => x.id !== id);
}

function takeFromSubnet(s: PoolState, subnet: string, n: number): void {
  const x = s.subnets.find((y) => y.id === subnet);
  if (x !== undefined) x.available = Math.max(0, x.available - n);
}

function giveToSubnet(s: PoolState, subnet: string, n: number): void {
  const x = s.subnets.find((y) => y.id === subnet);
  if (x !== undefined) x.available += n;
}
