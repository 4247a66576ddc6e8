// The TrainingPolicies that apply to a namespace: every one whose namespaceSelector matches, by name.
import { NAMESPACE_NAME_LABEL } from '../api/annotations.ts';
import { policyName } from '../api/trainingpolicy.ts';
import type { TrainingPolicy } from '../api/trainingpolicy.ts';
import { selectorMatches } from './label-selector.ts';

export interface NamespaceInfo {
  name: string;
  labels?: Record<string, string>;
}

// The apiserver always sets kubernetes.io/metadata.name, so selectors may rely on it.
export function namespaceLabels(ns: NamespaceInfo): Record<string, string> {
  return { [NAMESPACE_NAME_LABEL]: ns.name, ...(ns.labels ?? {}) };
}

// Sorted by name so that, where two policies default the same field, the outcome does not depend on list order.
export function matchingPolicies(policies: readonly TrainingPolicy[], ns: NamespaceInfo): TrainingPolicy[] {
  const labels = namespaceLabels(ns);
  return policies
    .filter((p) => selectorMatches(p.spec?.namespaceSelector, labels))
    .sort((a, b) => policyName(a).localeCompare(policyName(b)));
}
