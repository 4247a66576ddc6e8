// The CRD YAML, the schema objects and the ajv validators come from one source and cannot drift apart.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderCRDs, CRD_DIR } from '../../scripts/gen-crds.ts';
import { allCRDs, trainingJobCRD } from '../../api/crds.ts';
import { isPlainObject } from '../../api/json.ts';
import type { JsonObject } from '../../api/json.ts';
import { trainingJobV1Schema } from '../../api/trainingjob-v1-schema.ts';
import { schemaErrors, withSchemaDefaults } from '../../policies/schema-validation.ts';
import type { SchemaName } from '../../policies/schema-validation.ts';

t.test('committed manifests/crds/*.yaml equal the generator output', async (t) => {
  const rendered = renderCRDs();
  t.strictSame(readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml')).sort(), [...rendered.keys()].sort(), 'no stray or missing files');
  for (const [file, text] of rendered) {
    t.equal(readFileSync(join(CRD_DIR, file), 'utf8'), text, `${file} is up to date (node scripts/gen-crds.ts)`);
  }
});

t.test('the YAML parses back to the CRD objects', async (t) => {
  for (const { file, crd } of allCRDs()) {
    t.strictSame(parse(readFileSync(join(CRD_DIR, file), 'utf8')), JSON.parse(JSON.stringify(crd)), file);
  }
});

t.test('TrainingJob CRD: versions, conversion, columns, names', async (t) => {
  const spec = trainingJobCRD().spec as JsonObject;
  t.strictSame(spec.names, { kind: 'TrainingJob', listKind: 'TrainingJobList', plural: 'trainingjobs', singular: 'trainingjob', shortNames: ['tj'], categories: ['ml'] });
  t.strictSame(spec.conversion, {
    strategy: 'Webhook',
    webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { name: 'trainingjob-webhook', namespace: 'trainingjob-system', path: '/convert', port: 443 } } },
  });
  const versions = spec.versions as JsonObject[];
  t.strictSame(versions.map((v) => [v.name, v.served, v.storage]), [['v1', true, true], ['v1alpha1', true, false]]);
  t.ok(versions.every((v) => isPlainObject(v.subresources) && isPlainObject(v.subresources.status)), 'status subresource on every version');
  const columns = (versions[0]?.additionalPrinterColumns as JsonObject[]).map((c) => [c.name, c.jsonPath]);
  t.strictSame(columns, [
    ['State', '.status.state'], ['Progress', '.status.progress'], ['Epoch', '.status.currentEpoch'],
    ['Workers', '.spec.numWorkers'], ['GPUs', '.status.allocatedGPUs'], ['Queue', '.status.queue.position'], ['Age', '.metadata.creationTimestamp'],
    ['Priority', '.spec.priorityClassName'], ['Waiting For', '.status.queue.reason'],
  ]);
  t.strictSame((versions[0]?.additionalPrinterColumns as JsonObject[]).filter((c) => c.priority === 1).map((c) => c.name), ['Priority', 'Waiting For'], 'priority and queue reason only in -o wide');
  t.notMatch(JSON.stringify(spec), /caBundle/, 'caBundle is injected at install time');
});

t.test('scopes and status subresources', async (t) => {
  const byName = Object.fromEntries(allCRDs().map(({ crd }) => [crd.metadata.name, crd.spec as JsonObject]));
  t.equal(byName['trainingjobs.ml.example.com']?.scope, 'Namespaced');
  t.equal(byName['trainingpolicies.ml.example.com']?.scope, 'Cluster');
  t.equal(byName['jobrepositories.ml.example.com']?.scope, 'Namespaced');
  for (const spec of Object.values(byName)) {
    for (const v of spec.versions as JsonObject[]) t.strictSame(v.subresources, { status: {} });
  }
});

// The apiserver's structural-schema rules that a schema object could break.
function structuralProblems(node: unknown, path: string, out: string[]): string[] {
  if (!isPlainObject(node)) return out;
  if (node['x-kubernetes-int-or-string'] === true) {
    if (node.type !== undefined) out.push(`${path}: int-or-string must not set type`);
    return out;
  }
  if (typeof node.type !== 'string') out.push(`${path}: type is missing`);
  if (node.properties !== undefined && node.additionalProperties !== undefined) out.push(`${path}: properties and additionalProperties together`);
  if (node['x-kubernetes-preserve-unknown-fields'] === true && path !== 'spec.hyperparameters') out.push(`${path}: preserves unknown fields`);
  if (node.type === 'array' && !isPlainObject(node.items)) out.push(`${path}: array without items`);
  for (const [k, v] of Object.entries(isPlainObject(node.properties) ? node.properties : {})) structuralProblems(v, path ? `${path}.${k}` : k, out);
  if (isPlainObject(node.items)) structuralProblems(node.items, `${path}[]`, out);
  if (isPlainObject(node.additionalProperties)) structuralProblems(node.additionalProperties, `${path}{}`, out);
  return out;
}

t.test('every schema is structural, free-form only where meant', async (t) => {
  for (const { crd } of allCRDs()) {
    for (const v of (crd.spec as JsonObject).versions as JsonObject[]) {
      const schema = (v.schema as JsonObject).openAPIV3Schema;
      t.strictSame(structuralProblems(schema, '', []), [], `${crd.metadata.name} ${String(v.name)}`);
    }
  }
});

t.test('every default is valid against its own schema', async (t) => {
  const names: Record<string, SchemaName> = { 'trainingjobs.ml.example.com/v1': 'TrainingJob/v1', 'trainingjobs.ml.example.com/v1alpha1': 'TrainingJob/v1alpha1', 'trainingpolicies.ml.example.com/v1': 'TrainingPolicy/v1', 'jobrepositories.ml.example.com/v1': 'JobRepository/v1' };
  const minimal: Record<SchemaName, unknown> = {
    'TrainingJob/v1': { spec: { model: 'm', checkpoint: {}, networking: {} } },
    'TrainingJob/v1alpha1': { spec: { framework: 'pytorch', image: 'i', command: ['c'] } },
    'TrainingPolicy/v1': { spec: {} },
    'JobRepository/v1': { spec: { url: 'https://git.example.com/r.git' } },
  };
  for (const { crd } of allCRDs()) {
    for (const v of (crd.spec as JsonObject).versions as JsonObject[]) {
      const name = names[`${crd.metadata.name}/${String(v.name)}`];
      if (!name) { t.fail(`no schema name for ${crd.metadata.name}`); continue; }
      const defaulted = withSchemaDefaults(name, minimal[name]);
      t.strictSame(schemaErrors(name, defaulted), [], `${name} defaulted object is valid`);
    }
  }
});

t.test('CRD defaults are seed 001’s', async (t) => {
  t.strictSame(withSchemaDefaults('TrainingJob/v1', { spec: { model: 'resnet50', checkpoint: {} } }).spec, {
    model: 'resnet50', framework: 'pytorch', numWorkers: 1, gpusPerWorker: 1, backoffLimit: 3,
    checkpoint: { enabled: true, frequency: 1, storage: { type: 'pvc' } },
  });
  t.equal(trainingJobV1Schema.properties.spec.properties.numWorkers.maximum, 32);
  t.equal(trainingJobV1Schema.properties.spec.properties.gpusPerWorker.maximum, 8);
  t.equal(trainingJobV1Schema.properties.spec.properties.backoffLimit.maximum, 10);
});
