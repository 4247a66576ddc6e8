// Admission metrics (prom-client) on a registry of the app's own, so tests and replicas never share state.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { certFacts } from '../certs/inspect.ts';

export interface WebhookMetrics {
  registry: Registry;
  requests: Counter<'webhook' | 'operation' | 'allowed'>;
  duration: Histogram<'webhook'>;
  denials: Counter<'webhook' | 'reason'>;
  badRequests: Counter<'webhook'>;
  quotaConflicts: Counter;
  conversions: Counter<'result'>;
  certificateExpiry: Gauge;
}

export function createWebhookMetrics(opts: { defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'trainingjob_webhook_' });
  return {
    registry,
    requests: new Counter({ name: 'trainingjob_admission_requests_total', help: 'Admission reviews answered, by webhook, operation and verdict.', labelNames: ['webhook', 'operation', 'allowed'], registers: [registry] }),
    duration: new Histogram({
      name: 'trainingjob_admission_duration_seconds',
      help: 'Time to answer an admission review, including reads of the cluster.',
      labelNames: ['webhook'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    denials: new Counter({ name: 'trainingjob_admission_denials_total', help: 'Admission denials by webhook and reason (one per violation).', labelNames: ['webhook', 'reason'], registers: [registry] }),
    badRequests: new Counter({ name: 'trainingjob_admission_bad_requests_total', help: 'Requests refused before evaluation because the AdmissionReview was malformed.', labelNames: ['webhook'], registers: [registry] }),
    quotaConflicts: new Counter({ name: 'trainingjob_admission_quota_conflicts_total', help: 'GPU ledger writes lost to a concurrent admission and retried.', registers: [registry] }),
    conversions: new Counter({ name: 'trainingjob_conversion_requests_total', help: 'ConversionReviews answered, by result.', labelNames: ['result'], registers: [registry] }),
    certificateExpiry: new Gauge({ name: 'trainingjob_webhook_certificate_expiry_timestamp_seconds', help: 'When the serving certificate this replica currently serves expires (notAfter, Unix seconds).', registers: [registry] }),
  };
}

/** Records the expiry of the certificate just put in service; the alert compares it with the rotation lookahead. */
export function recordServingCertificate(m: WebhookMetrics, certPem: string): void {
  m.certificateExpiry.set(certFacts(certPem, 'serving certificate').notAfter.getTime() / 1000);
}
