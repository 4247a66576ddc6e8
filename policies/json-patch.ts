// RFC 6902 patches between two versions of an object, as AdmissionReview's patchType JSONPatch wants them.
import jsonpatch from 'fast-json-patch';

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

export function diffPatch(before: unknown, after: unknown): JsonPatchOp[] {
  return jsonpatch.compare(before as object, after as object) as JsonPatchOp[];
}

// Applies to a copy; throws on a patch that does not fit the document.
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOp[]): T {
  return jsonpatch.applyPatch(structuredClone(doc), ops as jsonpatch.Operation[], true, true).newDocument;
}
