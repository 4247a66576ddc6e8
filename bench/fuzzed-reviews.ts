// Fuzzed AdmissionReviews for the webhook's routes (fast-check, fixed seed): well-formed envelopes around
// hostile objects, and bare requests without one. Shared by the bad-input test and the bad-input benchmark.
import fc from 'fast-check';
import { routes } from '../webhook/app.ts';

export interface FuzzedReview {
  url: string;
  /** What the webhook must echo as response.uid when it answers 200. */
  uid: string;
  body: string;
}

export function fuzzedReviews(count: number, seed = 20261123): FuzzedReview[] {
  const jsonish = fc.jsonValue({ maxDepth: 4 });
  const spec = fc.record({
    model: fc.option(fc.string(), { nil: undefined }),
    image: fc.option(fc.oneof(fc.string(), fc.constant('pytorch/pytorch:2.3.1')), { nil: undefined }),
    numWorkers: fc.oneof(fc.integer({ min: -5, max: 50 }), jsonish),
    gpusPerWorker: fc.oneof(fc.integer({ min: -1, max: 12 }), jsonish),
    hyperparameters: fc.option(fc.dictionary(fc.string(), jsonish), { nil: undefined }),
    resources: fc.option(jsonish, { nil: undefined }),
  }, { requiredKeys: [] });
  const review = fc.record({
    uid: fc.oneof(fc.uuid(), fc.string()),
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'PATCH', ''),
    namespace: fc.oneof(fc.constant('default'), fc.string()),
    kind: fc.oneof(fc.constant({ group: 'ml.example.com', version: 'v1', kind: 'TrainingJob' }), jsonish),
    object: fc.oneof(fc.record({ apiVersion: fc.constant('ml.example.com/v1'), kind: fc.constant('TrainingJob'), metadata: fc.record({ name: fc.string() }), spec }), jsonish),
    oldObject: fc.option(jsonish, { nil: undefined }),
    dryRun: fc.boolean(),
  });
  const route = fc.constantFrom(routes.mutateTrainingJob, routes.validateTrainingJob, routes.validateTrainingPolicy, routes.convert);
  return fc.sample(fc.tuple(route, review, fc.boolean()), { numRuns: count, seed }).map(([url, req, envelopeOk]) => ({
    url,
    uid: req.uid,
    body: JSON.stringify(envelopeOk ? { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: req } : req),
  }));
}
