// Summary statistics for benchmark samples.
export function summarize(samples: number[]): { n: number; min: number; median: number; p95: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { n: s.length, min: s[0] ?? NaN, median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN };
}

export const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
