// "Did you mean ...?" for a mistyped command: the known word nearest by edit distance, where
// swapping two neighbouring letters counts as one edit (the commonest slip: "stauts").

/** Optimal string alignment distance between a and b. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `word`, or null when none is near enough to be a typo of it: at most
 * 2 edits, and fewer than half the word's letters (so "x" does not suggest "help").
 */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: { c: string; d: number } | null = null;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (best === null || d < best.d) best = { c, d };
  }
  if (best === null || best.d > 2 || best.d * 2 > word.length) return null;
  return best.c;
}
