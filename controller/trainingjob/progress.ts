// Training progress from rank 0's Prometheus text exposition (training_epoch, training_loss, …).

export interface TrainingProgress {
  currentEpoch?: number;
  totalEpochs?: number;
  // percent, 0–100, when both epochs are known
  progress?: number;
  metrics: { loss?: number; accuracy?: number; throughput?: number };
}

export const TRAINING_METRICS = {
  epoch: 'training_epoch',
  totalEpochs: 'training_total_epochs',
  loss: 'training_loss',
  accuracy: 'training_accuracy',
  throughput: 'training_samples_per_second',
} as const;

// A scrape of a few gauges is tiny; anything past this is cut off rather than parsed.
export const MAX_EXPOSITION_CHARS = 1024 * 1024;

const WANTED = new Set<string>(Object.values(TRAINING_METRICS));
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

// Index just past a label set "{…}" starting at `start`, honouring quoted values with escapes; -1 when unterminated.
function skipLabels(line: string, start: number): number {
  let quoted = false;
  for (let i = start + 1; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '}') return i + 1;
  }
  return -1;
}

// [name, value] of one sample line; undefined for comments, blanks, malformed lines and non-finite values.
function sample(line: string): [string, number] | undefined {
  const m = METRIC_NAME.exec(line);
  if (!m) return undefined;
  const name = m[0];
  if (!WANTED.has(name)) return undefined;
  let rest = m[0].length;
  if (line[rest] === '{') {
    rest = skipLabels(line, rest);
    if (rest < 0) return undefined;
  }
  const [valueText] = line.slice(rest).trim().split(/\s+/);
  if (!valueText || !FLOAT.test(valueText)) return undefined;
  const value = Number(valueText);
  if (!Number.isFinite(value)) return undefined;
  // A negative epoch is not a sample worth keeping; a later one may be.
  if ((name === TRAINING_METRICS.epoch || name === TRAINING_METRICS.totalEpochs) && value < 0) return undefined;
  return [name, value];
}

function wholeEpoch(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Math.floor(v);
}

export function parseTrainingProgress(text: string, maxChars: number = MAX_EXPOSITION_CHARS): TrainingProgress {
  const found = new Map<string, number>();
  const body = text.length > maxChars ? text.slice(0, maxChars) : text;
  let start = 0;
  while (start < body.length && found.size < WANTED.size) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = body.length;
    const line = body.slice(start, end).trim();
    start = end + 1;
    if (line.length === 0 || line.startsWith('#')) continue;
    const s = sample(line);
    // The first finite sample of each metric wins.
    if (s && !found.has(s[0])) found.set(s[0], s[1]);
  }
  const currentEpoch = wholeEpoch(found.get(TRAINING_METRICS.epoch));
  const total = wholeEpoch(found.get(TRAINING_METRICS.totalEpochs));
  const totalEpochs = total !== undefined && total > 0 ? total : undefined;
  const out: TrainingProgress = { metrics: {} };
  if (currentEpoch !== undefined) out.currentEpoch = currentEpoch;
  if (totalEpochs !== undefined) out.totalEpochs = totalEpochs;
  if (currentEpoch !== undefined && totalEpochs !== undefined) {
    out.progress = Math.round(Math.min(100, (currentEpoch / totalEpochs) * 100) * 100) / 100;
  }
  const loss = found.get(TRAINING_METRICS.loss);
  const accuracy = found.get(TRAINING_METRICS.accuracy);
  const throughput = found.get(TRAINING_METRICS.throughput);
  if (loss !== undefined) out.metrics.loss = loss;
  if (accuracy !== undefined) out.metrics.accuracy = accuracy;
  if (throughput !== undefined) out.metrics.throughput = throughput;
  return out;
}

// status.progress is a string like "45%"; rounded down so a run never shows 100% before it completes.
export function formatProgress(percent: number): string {
  return `${Math.floor(Math.max(0, Math.min(100, percent)))}%`;
}
