// What a rule reports: the field, a message that reads well in kubectl, and a CamelCase reason for metrics.
export interface Violation {
  // kubectl-style path: spec.resources.limits[nvidia.com/gpu], spec.tolerations[0].effect
  field: string;
  // the full line shown to the user, field included where one applies
  message: string;
  reason: string;
}

export function violation(field: string, message: string, reason: string): Violation {
  return { field, message: `${field}: ${message}`, reason };
}

// JSON-ish rendering of a value inside a message: strings quoted, numbers bare.
export function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}
