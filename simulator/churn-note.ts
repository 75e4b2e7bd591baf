// What prebind.max = prebind.min costs in churn, quoted by `vpccni plan`. The figures are the
// simulator's on the bundled diurnal trace (policy defaults but prebind; typical latency,
// seed 1); churn-note.test.ts replays the trace and fails when the engine's figures drift.
export const DIURNAL_CHURN = {
  trace: "examples/traces/diurnal.jsonl",
  seed: 1,
  latency: "typical",
  /** Mutating API calls with prebind 5/5 and with 5/10 (releaseInterval 2m). */
  calls: { "5/5": 6469, "5/10": 395 },
} as const;

/** One note line for the policies whose prebind.max equals prebind.min, or null when none does. */
export function maxEqualsMinNote(policies: readonly string[]): string | null {
  if (policies.length === 0) return null;
  const { calls } = DIURNAL_CHURN;
  return `${policies.join(", ")}: prebind.max = prebind.min: every pod deleted past the surplus is released and bound again; on the bundled diurnal trace 5/5 makes ${calls["5/5"].toLocaleString("en-US")} cloud calls a day against ${calls["5/10"].toLocaleString("en-US")} with 5/10 (vpccni simulate --recommend)`;
}
