// `simulate --fleet --scenario ...`: the scenario's flags to a FleetScenario, or the usage
// error naming the flag, its value and what is allowed.
import {
  type FleetScenario,
  diurnal,
  rollingRestart,
  SCENARIOS,
  type ScenarioName,
} from "../../simulator/fleet-scenario.ts";

/** The flags each scenario takes beyond --nodes and --pods. */
const FLAGS: Record<string, readonly ScenarioName[]> = {
  "join-over": ["scale-out"],
  "max-unavailable": ["rolling-restart"],
  "restart-pause": ["rolling-restart"],
  "pod-life": ["rolling-restart", "diurnal"],
  trough: ["diurnal"],
  "node-jitter": ["diurnal"],
};
export const SCENARIO_FLAGS = Object.keys(FLAGS);

export function scenarioOf(
  name: string,
  nodes: number,
  pods: number,
  flags: Partial<Record<string, string>>,
): FleetScenario | string {
  if (!SCENARIOS.includes(name as ScenarioName))
    return `--scenario is ${JSON.stringify(name)}; allowed: ${SCENARIOS.join(", ")}`;
  const scenario = name as ScenarioName;
  for (const [flag, takes] of Object.entries(FLAGS))
    if (flags[flag] !== undefined && !takes.includes(scenario))
      return `--${flag} is ${JSON.stringify(flags[flag])} but --scenario is ${scenario}; allowed: --${flag} with --scenario ${takes.join(" or ")}`;
  const num = (flag: string, fallback: number, min: number, max: number, whole = true): number | string => {
    const text = flags[flag];
    if (text === undefined) return fallback;
    const n = Number(text);
    return text.trim() !== "" && Number.isFinite(n) && (!whole || Number.isInteger(n)) && n >= min && n <= max
      ? n
      : `--${flag} is ${JSON.stringify(text)}; allowed: ${whole ? "a whole number" : "a number"} from ${min} to ${max}`;
  };
  switch (scenario) {
    case "scale-out": {
      const joinOver = num("join-over", 60, 0, 86_400);
      if (typeof joinOver === "string") return joinOver;
      return {
        kind: "scale-out",
        nodes,
        podsPerNode: pods,
        joinOverMs: joinOver * 1000,
        podDelayMs: 30_000,
        podSpreadMs: 10_000,
      };
    }
    case "rolling-restart": {
      const maxUnavailable = num("max-unavailable", 1, 1, nodes);
      const pause = num("restart-pause", 0, 0, 3600);
      const life = num("pod-life", 45, 0, 7 * 24 * 60);
      for (const v of [maxUnavailable, pause, life]) if (typeof v === "string") return v;
      return rollingRestart(nodes, pods, {
        maxUnavailable: maxUnavailable as number,
        pauseMs: (pause as number) * 1000,
        podLifeMs: (life as number) * 60_000,
      });
    }
    case "diurnal": {
      const trough = num("trough", Math.min(5, pods), 0, pods);
      const jitter = num("node-jitter", 0.2, 0, 0.9, false);
      const life = num("pod-life", 45, 1, 7 * 24 * 60);
      for (const v of [trough, jitter, life]) if (typeof v === "string") return v;
      return diurnal(nodes, pods, {
        troughPods: trough as number,
        nodeJitter: jitter as number,
        podLifeMs: (life as number) * 60_000,
      });
    }
  }
}
