// Where a v1 TrainingJob field is spelled in v1alpha1, so a message about the converted object (which names v1
// fields) can point at the line of a v1alpha1 manifest.
const V1ALPHA1_SPELLINGS: ReadonlyArray<readonly [v1: readonly string[], v1alpha1: readonly string[]]> = [
  [['spec', 'numWorkers'], ['spec', 'workers']],
  [['spec', 'gpusPerWorker'], ['spec', 'gpuPerWorker']],
  [['spec', 'checkpoint', 'frequency'], ['spec', 'checkpointInterval']],
  [['spec', 'checkpoint', 'storage', 'path'], ['spec', 'checkpointDir']],
  [['status', 'state'], ['status', 'phase']],
];

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

// Segments of a v1 field path → the same field's segments in v1alpha1; fields both versions share are unchanged.
export function v1alpha1FieldSegments(v1: readonly string[]): string[] {
  for (const [from, to] of V1ALPHA1_SPELLINGS) {
    if (startsWith(v1, from)) return [...to, ...v1.slice(from.length)];
  }
  return [...v1];
}
