// PriorityClasses as the queue and the rules see them: a job's priority value, and a name that does not exist.
import type { V1PriorityClass } from '@kubernetes/client-node';
import type { TrainingJob } from '../api/trainingjob-v1.ts';
import { show, violation } from './violation.ts';
import type { Violation } from './violation.ts';

export interface PriorityClassInfo {
  name: string;
  value: number;
  globalDefault?: boolean;
}

export function priorityClassInfo(pc: V1PriorityClass): PriorityClassInfo {
  return { name: pc.metadata?.name ?? '', value: pc.value ?? 0, ...(pc.globalDefault ? { globalDefault: true } : {}) };
}

/** The value a job's pods get from the scheduler's Priority admission: its class's, else the global default's, else 0. */
export function priorityValue(job: TrainingJob, classes: readonly PriorityClassInfo[]): number {
  const name = job.spec?.priorityClassName;
  if (name !== undefined) return classes.find((c) => c.name === name)?.value ?? 0;
  // Kubernetes takes the lowest-valued global default when several claim it.
  const defaults = classes.filter((c) => c.globalDefault).map((c) => c.value);
  return defaults.length ? Math.min(...defaults) : 0;
}

// Too many names would bury the message; kubectl users can list the rest.
const SHOWN_CLASSES = 8;

function known(classes: readonly PriorityClassInfo[]): string {
  if (classes.length === 0) return 'no PriorityClass exists';
  const names = classes.map((c) => c.name).sort();
  const shown = names.slice(0, SHOWN_CLASSES).join(', ');
  return `existing: ${shown}${names.length > SHOWN_CLASSES ? `, … (${names.length} in all; kubectl get priorityclasses)` : ''}`;
}

/** A PriorityClass name that no class holds: the worker pods would be refused by the apiserver at creation. */
export function missingPriorityClass(field: string, name: string | undefined, classes: readonly PriorityClassInfo[]): Violation[] {
  if (name === undefined || classes.some((c) => c.name === name)) return [];
  return [violation(field, `PriorityClass ${show(name)} not found (${known(classes)})`, 'PriorityClassNotFound')];
}
