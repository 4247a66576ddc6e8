// The admission chain of the cluster, replayed offline: for v1alpha1 the apiserver's decoding, defaulting and
// conversion around the webhooks' evaluate(); admitted jobs count toward their namespace's quota for later ones.
import { API_VERSION_V1ALPHA1 } from '../api/group.ts';
import { toV1 } from '../api/conversion.ts';
import { cloneJson, isPlainObject } from '../api/json.ts';
import { fieldSegments } from '../api/manifest-documents.ts';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import type { TrainingJobV1alpha1 } from '../api/trainingjob-v1alpha1.ts';
import { v1alpha1FieldSegments } from '../api/trainingjob-v1alpha1-fields.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { evaluate, validateAgainstSchema, withSchemaDefaults } from '../policies/index.ts';
import type { Evaluation, Violation } from '../policies/index.ts';

export interface OfflineAdmissionOptions {
  policies: readonly TrainingPolicy[];
  // for jobs whose metadata names no namespace, as kubectl -n
  defaultNamespace: string;
  namespaceLabels(namespace: string): Record<string, string>;
  // GPUs held in the namespace by jobs outside the input
  gpusInUse(namespace: string): number;
}

export interface LocatedViolation extends Violation {
  // where the field is spelled in the manifest as written (v1alpha1 names differ)
  at: string[];
}

export interface LocatedWarning {
  message: string;
  at: string[];
}

export interface OfflineVerdict {
  name: string;
  namespace: string;
  allowed: boolean;
  denials: LocatedViolation[];
  warnings: LocatedWarning[];
  queued?: string;
}

// The schema's reason for a field the type does not have (ajv additionalProperties).
const UNKNOWN_FIELD = 'FieldValueUnknown';

// Warnings are plain strings; most start with the field they are about.
const LEADING_FIELD = /^((?:[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])*): /;

function warningField(message: string): string[] {
  const m = LEADING_FIELD.exec(message);
  return m?.[1] ? fieldSegments(m[1]) : [];
}

// Stands for the GPUs of jobs outside the input; the engine sees it as one running job.
function jobsOutsideInput(namespace: string, gpus: number): TrainingJob[] {
  if (gpus <= 0) return [];
  return [{ metadata: { name: '', namespace }, spec: { numWorkers: 1, gpusPerWorker: gpus }, status: { state: 'Running' } }];
}

export interface OfflineAdmission {
  admit(object: Record<string, unknown>): OfflineVerdict;
}

export function offlineAdmission(opts: OfflineAdmissionOptions): OfflineAdmission {
  const jobsByNamespace = new Map<string, TrainingJob[]>();
  const namespaceJobs = (ns: string): TrainingJob[] => {
    let jobs = jobsByNamespace.get(ns);
    if (!jobs) {
      jobs = jobsOutsideInput(ns, opts.gpusInUse(ns));
      jobsByNamespace.set(ns, jobs);
    }
    return jobs;
  };

  return {
    admit(object) {
      const source = cloneJson(object);
      const metadata = isPlainObject(source.metadata) ? source.metadata : {};
      const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : opts.defaultNamespace;
      const name = typeof metadata.name === 'string' ? metadata.name : '';
      // The apiserver fills the namespace from the request before admission sees the object; a malformed
      // metadata is left for the schema to report.
      if (source.metadata === undefined || isPlainObject(source.metadata)) source.metadata = { ...metadata, namespace };
      const alpha = source.apiVersion === API_VERSION_V1ALPHA1;
      // Engine messages name v1 fields; the manifest may spell them the v1alpha1 way.
      const inSource = (segments: string[]): string[] => (alpha ? v1alpha1FieldSegments(segments) : segments);

      const jobs = namespaceJobs(namespace);
      const facts = { operation: 'CREATE' as const, namespace: { name: namespace, labels: opts.namespaceLabels(namespace) }, policies: opts.policies, namespaceJobs: jobs };
      let r: Evaluation;
      const denials: LocatedViolation[] = [];
      if (alpha) {
        // As the apiserver does for a v1alpha1 create: unknown fields fail decoding, defaults are applied, the
        // webhooks judge the object converted to v1, and the v1alpha1 schema is checked only after them.
        const defaulted = withSchemaDefaults('TrainingJob/v1alpha1', source);
        const alphaSchema = validateAgainstSchema('TrainingJob/v1alpha1', defaulted).map((d) => ({ ...d, at: fieldSegments(d.field) }));
        denials.push(...alphaSchema.filter((d) => d.reason === UNKNOWN_FIELD));
        r = evaluate({ ...facts, object: toV1(defaulted as unknown as TrainingJobV1alpha1) });
        denials.push(...r.denials.map((d) => ({ ...d, at: inSource(fieldSegments(d.field)) })));
        if (denials.length === 0) denials.push(...alphaSchema);
      } else {
        r = evaluate({ ...facts, object: source as unknown as TrainingJob });
        denials.push(...r.denials.map((d) => ({ ...d, at: inSource(fieldSegments(d.field)) })));
      }
      const allowed = denials.length === 0;
      if (allowed) jobs.push(r.object);
      return {
        name,
        namespace,
        allowed,
        denials,
        warnings: r.warnings.map((message) => ({ message, at: inSource(warningField(message)) })),
        ...(r.queue && allowed ? { queued: r.queue.message } : {}),
      };
    },
  };
}
