// Fields fixed at creation (seed 001): changing them would change the training run under the running workers.
import { deepEqual } from '../api/json.ts';
import type { TrainingJob, TrainingJobSpec } from '../api/trainingjob-v1.ts';
import { withSchemaDefaults } from './schema-validation.ts';
import { show, violation } from './violation.ts';
import type { Violation } from './violation.ts';

export const IMMUTABLE_FIELDS = ['model', 'dataset', 'numWorkers', 'gpusPerWorker', 'image', 'framework'] as const satisfies readonly (keyof TrainingJobSpec)[];

function shown(v: unknown): string {
  return v === undefined ? 'unset' : show(v);
}

// Both sides with CRD defaults, as the apiserver stores and serves them: an unset framework is "pytorch".
export function immutableFieldViolations(oldJob: TrainingJob, newJob: TrainingJob): Violation[] {
  const out: Violation[] = [];
  const oldSpec = withSchemaDefaults('TrainingJob/v1', oldJob).spec;
  const newSpec = withSchemaDefaults('TrainingJob/v1', newJob).spec;
  for (const f of IMMUTABLE_FIELDS) {
    const before = oldSpec?.[f];
    const after = newSpec?.[f];
    if (!deepEqual(before, after)) {
      out.push(violation(`spec.${f}`, `field is immutable (was ${shown(before)}, now ${shown(after)})`, 'ImmutableField'));
    }
  }
  return out;
}
