// Durations in policies are Go/Kubernetes-style strings ("30s", "2m", "1h30m") so that they
// read the same in YAML, in kubectl output and in the agent's logs.
const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Milliseconds of a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null || text === "") return undefined;
  // Stryker disable next-line StringLiteral: Number("") is 0 too; the defaults only say a missing unit counts 0
  const [, h = "0", m = "0", s = "0"] = match;
  return ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** The shortest canonical string for a whole number of seconds: 90_000 -> "1m30s". */
export function formatDuration(ms: number): string {
  let seconds = Math.round(ms / 1000);
  if (seconds === 0) return "0s";
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  seconds -= m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${seconds ? `${seconds}s` : ""}`;
}

export const DURATION_PATTERN = DURATION.source;
