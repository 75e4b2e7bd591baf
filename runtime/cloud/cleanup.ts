// What an uninstall left in the cloud, and how to remove it. `planCleanup` is pure (the ENIs
// and the time in, a decision per ENI out); `applyCleanup` carries a plan out through a VpcApi.
import { TAG_CLUSTER, TAG_CREATED_AT, TAG_NODE } from "../../schema/names.ts";
import type { Eni, VpcApi } from "./types.ts";

export interface CleanupOptions {
  /** Now, ms. */
  now: number;
  /** ENIs younger than this are left alone: an agent may be creating them right now. */
  olderThanMs: number;
  /** Also remove attached ENIs (detaching them first). Off: a live agent may own them. */
  forceAttached: boolean;
}

export type StepAction = "unassign" | "detach" | "delete";

export interface CleanupStep {
  action: StepAction;
  /** Unassign: the secondary IPs; detach: the instance. */
  ips?: string[];
  instanceId?: string;
}

export interface EniDecision {
  id: string;
  node?: string;
  subnetId: string;
  state: string;
  instanceId?: string;
  secondaryIps: string[];
  /** ISO time the ENI was made (its created-at tag, else the cloud's creation time), if known. */
  createdAt?: string;
  ageMs?: number;
  /** Steps in order when it is to be removed; empty when it is kept. */
  steps: CleanupStep[];
  /** Why it is kept; absent when it is to be removed. */
  keep?: string;
}

/** Decides for each ENI whether to remove it, sorted by ENI ID. */
export function planCleanup(enis: readonly Eni[], opts: CleanupOptions): EniDecision[] {
  return [...enis].sort((a, b) => a.id.localeCompare(b.id)).map((eni) => decide(eni, opts));
}

function decide(eni: Eni, opts: CleanupOptions): EniDecision {
  const created = createdAtMs(eni);
  const base: EniDecision = {
    id: eni.id,
    ...(eni.tags[TAG_NODE] ? { node: eni.tags[TAG_NODE] } : {}),
    subnetId: eni.subnetId,
    state: eni.state,
    ...(eni.attachment ? { instanceId: eni.attachment.instanceId } : {}),
    secondaryIps: [...eni.secondaryIps].sort(),
    ...(created === undefined
      ? {}
      : { createdAt: new Date(created).toISOString(), ageMs: Math.max(0, opts.now - created) }),
    steps: [],
  };
  const keep = whyKeep(eni, created, opts);
  if (keep !== undefined) return { ...base, keep };
  const steps: CleanupStep[] = [];
  if (base.secondaryIps.length > 0) steps.push({ action: "unassign", ips: base.secondaryIps });
  if (eni.attachment) steps.push({ action: "detach", instanceId: eni.attachment.instanceId });
  steps.push({ action: "delete" });
  return { ...base, steps };
}

function whyKeep(eni: Eni, created: number | undefined, opts: CleanupOptions): string | undefined {
  // Rules in order; the first that holds keeps the ENI.
  // 1. An instance's primary ENI goes with the instance, never by itself.
  if (eni.primary) return "primary ENI of its instance";
  // 2. Without a creation time the age guard cannot be checked: safe means keep.
  if (created === undefined) return "creation time unknown";
  // 3. Young ENIs may be an agent's work in progress.
  if (opts.now - created < opts.olderThanMs) return "younger than the age guard";
  // 4. A task is running on it (the cloud refuses a second one anyway).
  if (eni.state !== "AVAILABLE") return `state ${eni.state}`;
  // 5. Attached: a live agent may own it.
  if (eni.attachment && !opts.forceAttached)
    return `attached to ${eni.attachment.instanceId}; a live agent may own it (--force-attached)`;
  return undefined;
}

/**
 * The created-at tag (ISO), else the cloud's CreatedTime ("YYYY-MM-DD HH:MM:SS"), read as UTC:
 * if the cloud prints local (Beijing) time, the ENI looks younger than it is, never older.
 */
export function createdAtMs(eni: Pick<Eni, "tags" | "createdTime">): number | undefined {
  const tag = Date.parse(eni.tags[TAG_CREATED_AT] ?? "");
  if (Number.isFinite(tag)) return tag;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(eni.createdTime);
  if (!m) return undefined;
  const cloud = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isFinite(cloud) ? cloud : undefined;
}

/** The cluster's ENIs, by the tag every ENI vpccni creates carries. */
export function findClusterEnis(api: VpcApi, clusterId: string): Promise<Eni[]> {
  return api.findEnis({ tags: { [TAG_CLUSTER]: clusterId } });
}

export interface StepResult {
  eniId: string;
  action: StepAction | "skip";
  ok: boolean;
  /** What was done or why it was skipped; the error's message on failure. */
  detail: string;
}

/**
 * Carries out each ENI's steps in order; the first failed step ends that ENI, not the run.
 * Each ENI is read again and decided again just before, so one that was attached, reused or
 * removed since the listing is skipped.
 */
export async function applyCleanup(
  api: VpcApi,
  plan: readonly EniDecision[],
  opts: CleanupOptions,
  report: (r: StepResult) => void = () => {},
): Promise<StepResult[]> {
  const results: StepResult[] = [];
  const emit = (r: StepResult) => {
    results.push(r);
    report(r);
  };
  for (const planned of plan) {
    if (planned.steps.length === 0) continue;
    let decision: EniDecision;
    try {
      const now = await api.getEni(planned.id);
      if (now === undefined) {
        emit({ eniId: planned.id, action: "skip", ok: true, detail: "already gone" });
        continue;
      }
      decision = decide(now, opts);
    } catch (error) {
      emit({ eniId: planned.id, action: "skip", ok: false, detail: `re-reading it failed: ${message(error)}` });
      continue;
    }
    if (decision.keep !== undefined) {
      emit({ eniId: planned.id, action: "skip", ok: true, detail: `kept: ${decision.keep}` });
      continue;
    }
    for (const step of decision.steps) {
      const r = await runStep(api, planned.id, step);
      emit(r);
      if (!r.ok) break;
    }
  }
  return results;
}

async function runStep(api: VpcApi, eniId: string, step: CleanupStep): Promise<StepResult> {
  try {
    switch (step.action) {
      case "unassign": {
        const removed = await api.unassignIps(eniId, step.ips ?? []);
        const all = removed.length === (step.ips ?? []).length;
        const detail = `unassigned ${removed.length} of ${(step.ips ?? []).length} IPs`;
        return { eniId, action: "unassign", ok: all, detail };
      }
      case "detach":
        // No ClientToken: the adapter makes one and reuses it for every retry of this call.
        await api.detachEni(eniId, step.instanceId ?? "");
        return { eniId, action: "detach", ok: true, detail: `detached from ${step.instanceId}` };
      case "delete":
        await api.deleteEni(eniId);
        return { eniId, action: "delete", ok: true, detail: "deleted" };
    }
  } catch (error) {
    return { eniId, action: step.action, ok: false, detail: message(error) };
  }
}

function message(error: unknown): string {
  return (error as Error | undefined)?.message ?? String(error);
}
