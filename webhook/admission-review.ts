// AdmissionReview v1 in and out: the envelope is checked before any policy sees it, and every
// answer echoes the request uid.
import type { JsonPatchOp, Violation } from '../policies/index.ts';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo?: { username?: string; groups?: string[] };
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string; reason?: string };
    warnings?: string[];
    patchType?: 'JSONPatch';
    patch?: string;
  };
}

export type Parsed = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

const operations = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);
// Objects the apiserver sends are far shallower; a deeper one is an attack or a bug.
export const maxDepth = 64;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Depth of nested objects/arrays, iteratively, so a hostile document cannot overflow the stack. */
export function nestingDepth(value: unknown, limit = maxDepth): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > deepest) deepest = d;
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

export function parseAdmissionReview(body: unknown): Parsed {
  if (!isObject(body)) return { ok: false, message: 'body must be a JSON object (an AdmissionReview)' };
  if (body.apiVersion !== 'admission.k8s.io/v1' || body.kind !== 'AdmissionReview') {
    return { ok: false, message: `expected apiVersion admission.k8s.io/v1, kind AdmissionReview; got ${String(body.apiVersion)}, ${String(body.kind)}` };
  }
  const req = body.request;
  if (!isObject(req)) return { ok: false, message: 'request is missing' };
  if (typeof req.uid !== 'string' || req.uid === '') return { ok: false, message: 'request.uid is missing' };
  if (typeof req.operation !== 'string' || !operations.has(req.operation)) return { ok: false, message: `request.operation ${JSON.stringify(req.operation)} is not one of CREATE, UPDATE, DELETE, CONNECT` };
  const kind = req.kind;
  if (!isObject(kind) || typeof kind.kind !== 'string' || typeof kind.version !== 'string' || typeof kind.group !== 'string') return { ok: false, message: 'request.kind must have group, version and kind' };
  if (req.object !== undefined && req.object !== null && !isObject(req.object)) return { ok: false, message: 'request.object must be an object' };
  if (req.oldObject !== undefined && req.oldObject !== null && !isObject(req.oldObject)) return { ok: false, message: 'request.oldObject must be an object' };
  if (req.namespace !== undefined && typeof req.namespace !== 'string') return { ok: false, message: 'request.namespace must be a string' };
  if (nestingDepth(req.object) > maxDepth || nestingDepth(req.oldObject) > maxDepth) return { ok: false, message: `request object is nested deeper than ${maxDepth} levels` };
  return { ok: true, request: req as unknown as AdmissionRequest };
}

export interface Verdict {
  allowed: boolean;
  denials?: readonly Violation[];
  warnings?: readonly string[];
  patch?: readonly JsonPatchOp[];
  /** Overrides the 403 of a policy denial, e.g. 500 when the facts could not be read. */
  code?: number;
  reason?: string;
}

// The apiserver caps warnings at 120 characters each and drops long lists; keep them readable.
const maxWarnings = 20;
const maxWarningLength = 120;

export function admissionResponse(uid: string, v: Verdict): AdmissionReviewResponse {
  const response: AdmissionReviewResponse['response'] = { uid, allowed: v.allowed };
  if (!v.allowed) {
    const messages = (v.denials ?? []).map((d) => d.message);
    // kubectl prints this message after "admission webhook ... denied the request:".
    const message = messages.length > 1 ? `${messages.length} problems: ${messages.join('; ')}` : (messages[0] ?? 'denied');
    response.status = { code: v.code ?? 403, message, reason: v.reason ?? 'Forbidden' };
  }
  const warnings = (v.warnings ?? []).slice(0, maxWarnings).map((w) => (w.length > maxWarningLength ? `${w.slice(0, maxWarningLength - 1)}…` : w));
  if (warnings.length) response.warnings = warnings;
  if (v.allowed && v.patch?.length) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(v.patch)).toString('base64');
  }
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
