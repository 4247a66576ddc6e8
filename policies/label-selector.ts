// metav1.LabelSelector semantics: matchLabels and every matchExpression must hold.
import type { LabelSelector, LabelSelectorRequirement } from '../api/meta.ts';

function requirementHolds(req: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': return has && values.includes(labels[req.key] ?? '');
    case 'NotIn': return !has || !values.includes(labels[req.key] ?? '');
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    default: return false; // an unknown operator selects nothing, as the apiserver would refuse it
  }
}

// An absent selector selects everything, like a webhook's namespaceSelector.
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementHolds(req, labels));
}
