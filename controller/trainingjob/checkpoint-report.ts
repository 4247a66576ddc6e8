// The checkpoint a worker reports in its termination message (or, via FallbackToLogsOnError, its log tail).
//
// Format: any line of the message, the last valid one wins, either
//   {"checkpoint":"s3://bucket/run-7/epoch-3","epoch":3}
// or
//   checkpoint=s3://bucket/run-7/epoch-3 epoch=3
// The location is 1–1024 characters without whitespace or control characters; epoch is optional, a non-negative
// integer. Anything else on other lines (log output, stack traces, garbage) is ignored.

export interface CheckpointReport {
  checkpoint: string;
  epoch?: number;
}

// The kubelet keeps at most 4096 bytes; more than this is not a termination message.
const MAX_MESSAGE = 16 * 1024;
const MAX_LINE = 2048;
const MAX_LOCATION = 1024;
// Printable, no whitespace: ASCII ! to ~ and non-control Unicode.
const LOCATION = /^[!-~\u00a1-\uffff]+$/;

function report(checkpoint: unknown, epoch: unknown): CheckpointReport | undefined {
  if (typeof checkpoint !== 'string' || checkpoint.length > MAX_LOCATION || !LOCATION.test(checkpoint)) return undefined;
  const n = typeof epoch === 'string' && /^\d+$/.test(epoch) ? Number(epoch) : epoch;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? { checkpoint, epoch: n } : { checkpoint };
}

/** One line of a message as a checkpoint report, if it is one. */
export function parseCheckpointLine(line: string): CheckpointReport | undefined {
  if (line.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
      const o = v as Record<string, unknown>;
      return report(o.checkpoint, o.epoch);
    } catch {
      return undefined;
    }
  }
  const fields = new Map<string, string>();
  for (const token of line.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return fields.has('checkpoint') ? report(fields.get('checkpoint'), fields.get('epoch')) : undefined;
}

export function parseCheckpointReport(message: string | undefined): CheckpointReport | undefined {
  if (!message) return undefined;
  const lines = message.slice(-MAX_MESSAGE).split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line.length === 0 || line.length > MAX_LINE) continue;
    const found = parseCheckpointLine(line);
    if (found) return found;
  }
  return undefined;
}

// The line a worker prints or writes to /dev/termination-log after saving a checkpoint.
export function formatCheckpointReport(r: CheckpointReport): string {
  return JSON.stringify(r.epoch === undefined ? { checkpoint: r.checkpoint } : { checkpoint: r.checkpoint, epoch: r.epoch });
}

// Across ranks: the highest epoch wins; without epochs, the lowest rank (rank 0 usually saves).
export function latestCheckpoint(reports: ReadonlyArray<{ rank: number; report: CheckpointReport }>): CheckpointReport | undefined {
  let best: { rank: number; report: CheckpointReport } | undefined;
  for (const r of reports) {
    if (!best) { best = r; continue; }
    const a = r.report.epoch ?? -1;
    const b = best.report.epoch ?? -1;
    if (a > b || (a === b && r.rank < best.rank)) best = r;
  }
  return best?.report;
}
