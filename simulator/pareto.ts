// The Pareto front of a set of runs: those no other run beats on every objective at once.
// Pure and generic, so that the property test can check it on any scores.

/** Scores to minimise, all of the same length. */
export type Scores = readonly number[];

/** `a` dominates `b`: no worse on every score and better on at least one. */
export function dominates(a: Scores, b: Scores): boolean {
  if (a.length !== b.length)
    throw new Error(`scores of different lengths (${a.length} and ${b.length}); allowed: one length for all`);
  let better = false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (x > y) return false;
    if (x < y) better = true;
  }
  return better;
}

/**
 * The items no other item dominates, in their input order. Items with equal scores are all on
 * the front (neither dominates the other). Quadratic, which is fine for the few hundred runs
 * of a sweep.
 */
export function paretoFront<T>(items: readonly T[], score: (item: T) => Scores): T[] {
  const scores = items.map(score);
  return items.filter((_, i) => !scores.some((s, j) => j !== i && dominates(s, scores[i] as Scores)));
}
