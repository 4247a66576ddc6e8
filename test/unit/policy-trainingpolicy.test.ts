// The TrainingPolicy validating webhook's checks, and the selector and image-pattern semantics policies rely on.
import t from 'tap';
import { validateTrainingPolicy } from '../../policies/trainingpolicy-validation.ts';
import { selectorMatches } from '../../policies/label-selector.ts';
import { imageMatches, hasMovingTag } from '../../policies/image-pattern.ts';
import { matchingPolicies, type NamespaceInfo } from '../../policies/matching-policies.ts';
import type { TrainingPolicy, TrainingPolicySpec } from '../../api/trainingpolicy.ts';

const policy = (spec: TrainingPolicySpec, name = 'p'): TrainingPolicy => ({ apiVersion: 'ml.example.com/v1', kind: 'TrainingPolicy', metadata: { name }, spec });

t.test('schema errors and semantic errors together', async (t) => {
  const r = validateTrainingPolicy(policy({
    gpuQuota: -1,
    overQuota: 'Maybe' as 'Queue',
    namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'In' }, { key: 'env', operator: 'Exists', values: ['x'] }] },
    allowedImages: ['registry.example.com/ml/'],
    defaults: { images: { pytorch: 'docker.io/pytorch:2' }, resources: { requests: { memory: '32Gi' }, limits: { memory: '16Gi' } } },
  }));
  t.notOk(r.allowed);
  t.strictSame(r.denials.map((d) => d.message), [
    'spec.gpuQuota: -1 is less than the minimum 0',
    'spec.overQuota: Unsupported value: "Maybe": supported values: "Reject", "Queue"',
    'spec.namespaceSelector.matchExpressions[0].values: must be non-empty when operator is In',
    'spec.namespaceSelector.matchExpressions[1].values: must be empty when operator is Exists',
    'spec.defaults.images.pytorch: "docker.io/pytorch:2" is not allowed by this policy\'s allowedImages',
    'spec.defaults.resources.requests.memory: 32Gi must be less than or equal to the limit 16Gi',
  ]);
});

t.test('warnings for prefixes that stop mid-name and quotas no job can fill', async (t) => {
  const r = validateTrainingPolicy(policy({ allowedImages: ['registry.example.com/ml', 'pytorch/pytorch:*'], gpuQuota: 8, maxGPUsPerJob: 16 }));
  t.ok(r.allowed);
  t.strictSame(r.warnings, [
    'spec.allowedImages[0]: prefix "registry.example.com/ml" also matches "registry.example.com/ml-other/..."; end it with "/" or ":" to allow one repository path',
    'spec.maxGPUsPerJob: 16 is above spec.gpuQuota 8; no job can use that many',
  ]);
});

t.test('unknown fields are refused', async (t) => {
  t.strictSame(validateTrainingPolicy({ metadata: { name: 'p' }, spec: { gpuQuotas: 3 } } as unknown as TrainingPolicy).denials.map((d) => d.message), ['spec.gpuQuotas: unknown field']);
});

t.test('label selectors: matchLabels and In/NotIn/Exists/DoesNotExist', async (t) => {
  const labels = { team: 'a', env: 'prod' };
  t.ok(selectorMatches(undefined, labels), 'absent selects all');
  t.ok(selectorMatches({}, labels), 'empty selects all');
  t.ok(selectorMatches({ matchLabels: { team: 'a' } }, labels));
  t.notOk(selectorMatches({ matchLabels: { team: 'a', env: 'dev' } }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, labels));
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'missing', operator: 'In', values: ['a'] }] }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['dev'] }] }, labels), 'NotIn holds for absent keys');
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, labels));
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, labels));
  t.ok(selectorMatches({ matchLabels: { team: 'a' }, matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }, labels), 'both parts must hold');
});

t.test('namespaces are selectable by name', async (t) => {
  const byName = policy({ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['ml-training'] }] } }, 'by-name');
  t.strictSame(matchingPolicies([byName], { name: 'ml-training' }).map((p) => p.metadata?.name), ['by-name']);
  t.strictSame(matchingPolicies([byName], { name: 'other' }), []);
});

t.test('image patterns: prefix without wildcards, glob with', async (t) => {
  t.ok(imageMatches('registry.example.com/ml/pytorch:2.3', 'registry.example.com/ml/'));
  t.notOk(imageMatches('registry.example.com/mlx/pytorch:2.3', 'registry.example.com/ml/'));
  t.ok(imageMatches('pytorch/pytorch:2.1.0-cuda12.1', 'pytorch/pytorch:2.*'));
  t.notOk(imageMatches('pytorch/pytorch:1.13', 'pytorch/pytorch:2.*'));
  t.ok(imageMatches('registry.example.com/ml/team/x:1', 'registry.example.com/ml/*'), '* crosses /');
  t.notOk(imageMatches('evil.com/registry.example.com/ml/x', 'registry.example.com/ml/*'), 'globs are anchored');
  t.ok(imageMatches('a.b/c:1', 'a?b/*'));
  t.notOk(imageMatches('axb/c:1', 'a.b/*'), 'a dot is literal');
  t.ok(hasMovingTag('pytorch/pytorch'));
  t.ok(hasMovingTag('localhost:5000/x'), 'a registry port is not a tag');
  t.ok(hasMovingTag('x:latest'));
  t.notOk(hasMovingTag('localhost:5000/x:1'));
  t.notOk(hasMovingTag('x@sha256:abc'));
});

t.test('cohorts: limits below zero, limits without a cohort, lending more than the quota, conflicting cohorts on one namespace', async (t) => {
  const negative = validateTrainingPolicy(policy({ gpuQuota: 8, cohort: 'research', borrowingLimit: -1, lendingLimit: -2, overQuota: 'Queue' }));
  t.strictSame(negative.denials.map((d) => d.message), ['spec.borrowingLimit: -1 is less than the minimum 0', 'spec.lendingLimit: -2 is less than the minimum 0']);
  const loose = validateTrainingPolicy(policy({ gpuQuota: 8, borrowingLimit: 2, lendingLimit: 10 }));
  t.strictSame(loose.denials.map((d) => d.message), [
    'spec.borrowingLimit: needs spec.cohort: GPUs are borrowed from a cohort',
    'spec.lendingLimit: needs spec.cohort: GPUs are lent to a cohort',
    'spec.lendingLimit: 10 is more than spec.gpuQuota 8: a namespace lends only from its own quota',
  ]);
  t.match(validateTrainingPolicy(policy({ gpuQuota: 8, cohort: 'Research Team', overQuota: 'Queue' })).denials[0]?.message, /^spec\.cohort: "Research Team" /, 'a cohort is a DNS label');
  const onlyLends = validateTrainingPolicy(policy({ gpuQuota: 8, cohort: 'research' }));
  t.ok(onlyLends.allowed);
  t.match(onlyLends.warnings.join('\n'), /overQuota is not Queue, so jobs over the quota are refused and these namespaces only lend to cohort "research"/);
  const existing = policy({ namespaceSelector: { matchLabels: { org: 'vision' } }, gpuQuota: 8, cohort: 'vision' }, 'vision-teams');
  const incoming = policy({ namespaceSelector: { matchLabels: { team: 'team-a' } }, gpuQuota: 8, cohort: 'research', overQuota: 'Queue' }, 'team-a');
  const namespaces: NamespaceInfo[] = [{ name: 'team-a', labels: { team: 'team-a', org: 'vision' } }, { name: 'team-b', labels: { team: 'team-b' } }];
  const conflict = validateTrainingPolicy(incoming, undefined, { policies: [existing, incoming], namespaces });
  t.strictSame(conflict.denials.map((d) => d.message), ['spec.cohort: namespace team-a is already in cohort vision through TrainingPolicy vision-teams; a namespace\'s quota belongs to one cohort']);
  t.ok(validateTrainingPolicy({ ...incoming, spec: { ...incoming.spec, cohort: 'vision' } }, undefined, { policies: [existing], namespaces }).allowed, 'the same cohort twice is no conflict');
  t.ok(validateTrainingPolicy(incoming, undefined, { policies: [existing], namespaces: [namespaces[1]!] }).allowed, 'no namespace selected by both');
});

t.test('backfillSeconds: a positive number of seconds, and only meaningful where jobs queue', async (t) => {
  const zero = validateTrainingPolicy(policy({ gpuQuota: 8, overQuota: 'Queue', backfillSeconds: 0 }));
  t.equal(zero.allowed, false);
  t.match(zero.denials.map((d) => d.message).join('\n'), /^spec\.backfillSeconds: /m, 'names the field');
  t.same(validateTrainingPolicy(policy({ gpuQuota: 8, overQuota: 'Queue', backfillSeconds: 1800 })).warnings, []);
  t.match(validateTrainingPolicy(policy({ gpuQuota: 8, backfillSeconds: 1800 })).warnings.join('\n'), /^spec\.backfillSeconds: overQuota is not Queue, so no job waits in a queue for others to backfill; set overQuota: Queue$/m);
});
