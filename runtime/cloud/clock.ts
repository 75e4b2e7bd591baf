// Time and randomness the adapter gets passed, so tests control both.
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Uniform in [0, 1). */
export type Random = () => number;
