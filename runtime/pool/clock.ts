// The engine takes `now` from the wall clock, which can jump (NTP stepping a drifted node, a
// resumed VM). Times it stored are re-anchored on now, so that a jump back makes nothing wait
// longer than the settings say; the release cadence does the same (plan.ts releaseOnTimer).
import type { Millis, PoolState } from "./types.ts";

/**
 * After a jump back, an IP freed by a pod rests at most ipCooldown from now (not the jump
 * more), and a waiting pod counts from now at the latest. Never shorter: nothing is handed out
 * or forgotten early.
 */
export function reanchorTimes(s: PoolState, now: Millis): void {
  const cooldown = s.settings.cooldownMs;
  for (const e of s.enis)
    for (const slot of e.ips) if (slot.coolUntil - now > cooldown) slot.coolUntil = now + cooldown;
  for (const [key, since] of Object.entries(s.waiting)) if (since > now) s.waiting[key] = now;
}
