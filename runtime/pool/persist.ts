// The persisted form of a PoolState (the agent keeps it in SQLite). parseState() is the one
// door back in: it checks the version and the shape, naming the field that is wrong, and is
// where a migration from an older version goes when the shape changes.
import { ACTIONS } from "./state.ts";
import { POOL_STATE_VERSION, type PoolState } from "./types.ts";

/** JSON text of a state. Key order follows the state's construction, so equal states give equal text. */
export function serializeState(state: PoolState): string {
  return JSON.stringify(state);
}

export function parseState(input: string | unknown): PoolState {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (error) {
      throw new Error(`pool state is not JSON (${(error as Error).message}); allowed: the text serializeState() wrote`);
    }
  }
  const s = object(raw, "state");
  if (s.version !== POOL_STATE_VERSION) {
    throw new Error(`state.version ${JSON.stringify(s.version)} is not supported; allowed: ${POOL_STATE_VERSION}`);
  }
  for (const key of ["settings", "quota", "pods", "waiting", "release", "backoff", "paused"])
    object(s[key], `state.${key}`);
  for (const key of ["enis", "subnets", "inflight"]) array(s[key], `state.${key}`);
  if (!Number.isInteger(s.nextOpSeq) || (s.nextOpSeq as number) < 1)
    throw new Error(`state.nextOpSeq (${JSON.stringify(s.nextOpSeq)}) must be an integer >= 1`);
  const backoff = s.backoff as Record<string, unknown>;
  for (const a of ACTIONS) object(backoff[a], `state.backoff.${a}`);
  (s.enis as unknown[]).forEach((e, i) => {
    const eni = object(e, `state.enis[${i}]`);
    if (typeof eni.id !== "string" || typeof eni.subnet !== "string")
      throw new Error(`state.enis[${i}] needs string id and subnet; found ${JSON.stringify(e)}`);
    array(eni.ips, `state.enis[${i}].ips`).forEach((slot, j) => {
      const x = object(slot, `state.enis[${i}].ips[${j}]`);
      if (
        typeof x.ip !== "string" ||
        !(x.pod === null || typeof x.pod === "string") ||
        typeof x.coolUntil !== "number" ||
        typeof x.releasing !== "boolean"
      ) {
        throw new Error(
          `state.enis[${i}].ips[${j}] (${JSON.stringify(slot)}) must be {ip: string, pod: string|null, coolUntil: number, releasing: boolean}`,
        );
      }
    });
  });
  return raw as PoolState;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${field} (${JSON.stringify(value)}) must be an object`);
  return value as Record<string, unknown>;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${field} (${JSON.stringify(value)}) must be an array`);
  return value;
}
