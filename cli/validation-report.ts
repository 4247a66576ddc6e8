// What `trainingjob validate` tells the user: compiler-style `file:line: message` lines written as each file is
// done (text), or one JSON document at the end (json); and the exit status both share.

export interface ReportedViolation {
  line: number;
  field: string;
  message: string;
  reason: string;
}

export interface ReportedWarning {
  line: number;
  message: string;
}

export interface DocumentResult {
  file: string;
  line: number;
  kind: 'TrainingJob' | 'TrainingPolicy';
  apiVersion: string;
  name: string;
  namespace?: string;
  allowed: boolean;
  violations: ReportedViolation[];
  warnings: ReportedWarning[];
  queued?: string;
}

// Input the command could not judge: unreadable file, YAML error, a document of another kind.
export interface InputError {
  file: string;
  line?: number;
  col?: number;
  message: string;
}

export interface ValidationSummary {
  files: number;
  jobs: number;
  invalid: number;
  invalidPolicies: number;
  errors: number;
}

export interface ValidationReport {
  // a file given with -f was taken up (counted in the summary)
  file(): void;
  document(result: DocumentResult): void;
  error(err: InputError): void;
  // prints the summary; returns the exit status
  finish(): number;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function summaryLine(s: ValidationSummary): string {
  const findings: string[] = [];
  if (s.invalid > 0) findings.push(`${s.invalid} invalid`);
  if (s.invalidPolicies > 0) findings.push(plural(s.invalidPolicies, 'invalid policy', 'invalid policies'));
  if (s.errors > 0) findings.push(plural(s.errors, 'error'));
  return `${plural(s.files, 'file')}, ${plural(s.jobs, 'job')}: ${findings.length > 0 ? findings.join(', ') : 'all valid'}`;
}

// Unreadable input outranks violations: the verdict on the rest is incomplete.
export function exitStatus(s: ValidationSummary): number {
  if (s.errors > 0) return 2;
  return s.invalid > 0 || s.invalidPolicies > 0 ? 1 : 0;
}

export function errorLine(e: InputError): string {
  const at = e.line === undefined ? e.file : e.col === undefined ? `${e.file}:${e.line}` : `${e.file}:${e.line}:${e.col}`;
  return `${at}: ${e.message}`;
}

export function documentLines(r: DocumentResult): string[] {
  return [
    ...r.violations.map((v) => `${r.file}:${v.line}: ${v.message}`),
    ...r.warnings.map((w) => `${r.file}:${w.line}: warning: ${w.message}`),
  ];
}

function tally(): { summary: ValidationSummary; count(result: DocumentResult): void } {
  const summary: ValidationSummary = { files: 0, jobs: 0, invalid: 0, invalidPolicies: 0, errors: 0 };
  return {
    summary,
    count(r) {
      if (r.kind === 'TrainingJob') {
        summary.jobs++;
        if (!r.allowed) summary.invalid++;
      } else if (!r.allowed) {
        summary.invalidPolicies++;
      }
    },
  };
}

export function textReport(write: (text: string) => void): ValidationReport {
  const { summary, count } = tally();
  return {
    file: () => void summary.files++,
    document(r) {
      count(r);
      const lines = documentLines(r);
      if (lines.length > 0) write(`${lines.join('\n')}\n`);
    },
    error(e) {
      summary.errors++;
      write(`${errorLine(e)}\n`);
    },
    finish() {
      write(`${summaryLine(summary)}\n`);
      return exitStatus(summary);
    },
  };
}

export function jsonReport(write: (text: string) => void): ValidationReport {
  const { summary, count } = tally();
  const documents: DocumentResult[] = [];
  const errors: InputError[] = [];
  return {
    file: () => void summary.files++,
    document(r) {
      count(r);
      documents.push(r);
    },
    error(e) {
      summary.errors++;
      errors.push(e);
    },
    finish() {
      write(`${JSON.stringify({ documents, errors, summary }, null, 2)}\n`);
      return exitStatus(summary);
    },
  };
}
