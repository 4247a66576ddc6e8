// ConversionReview (apiextensions.k8s.io/v1) for the TrainingJob CRD: v1 ⇄ v1alpha1, all objects or none.
import { convertTrainingJob, type JsonObject } from '../api/index.ts';

export interface ConversionReviewResponse {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'ConversionReview';
  response: { uid: string; convertedObjects: JsonObject[]; result: { status: 'Success' | 'Failure'; message?: string } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Returns the response, or an error message for a malformed review (answered with 400). */
export function convertReview(body: unknown): { ok: true; review: ConversionReviewResponse } | { ok: false; message: string } {
  if (!isObject(body) || body.kind !== 'ConversionReview' || body.apiVersion !== 'apiextensions.k8s.io/v1') return { ok: false, message: 'expected apiVersion apiextensions.k8s.io/v1, kind ConversionReview' };
  const req = body.request;
  if (!isObject(req) || typeof req.uid !== 'string' || !req.uid) return { ok: false, message: 'request.uid is missing' };
  if (typeof req.desiredAPIVersion !== 'string') return { ok: false, message: 'request.desiredAPIVersion is missing' };
  if (!Array.isArray(req.objects) || !req.objects.every(isObject)) return { ok: false, message: 'request.objects must be a list of objects' };
  const respond = (result: ConversionReviewResponse['response']['result'], convertedObjects: JsonObject[] = []): ConversionReviewResponse => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: { uid: req.uid as string, convertedObjects, result },
  });
  try {
    const converted = (req.objects as JsonObject[]).map((o) => convertTrainingJob(o, req.desiredAPIVersion as string));
    return { ok: true, review: respond({ status: 'Success' }, converted) };
  } catch (err) {
    return { ok: true, review: respond({ status: 'Failure', message: err instanceof Error ? err.message : String(err) }) };
  }
}
