// The CustomResourceDefinitions, built from the schema objects; scripts/gen-crds.ts writes them as YAML.
import {
  API_VERSION_V1, GROUP, JOBREPOSITORY_KIND, JOBREPOSITORY_PLURAL, TRAININGJOB_KIND, TRAININGJOB_PLURAL,
  TRAININGPOLICY_KIND, TRAININGPOLICY_PLURAL, V1, V1ALPHA1, WEBHOOK_SERVICE,
} from './group.ts';
import { trainingJobV1Schema } from './trainingjob-v1-schema.ts';
import { trainingJobV1alpha1Schema } from './trainingjob-v1alpha1-schema.ts';
import { trainingPolicySchema } from './trainingpolicy-schema.ts';
import { jobRepositorySchema } from './jobrepository-schema.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

const CATEGORIES = ['ml'];
const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };
const crdLabels = { 'app.kubernetes.io/part-of': 'trainingjob' };

function crd(plural: string, spec: Record<string, unknown>): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}`, labels: crdLabels },
    spec: { group: GROUP, ...spec },
  };
}

export function trainingJobCRD(): CustomResourceDefinition {
  return crd(TRAININGJOB_PLURAL, {
    names: { kind: TRAININGJOB_KIND, listKind: `${TRAININGJOB_KIND}List`, plural: TRAININGJOB_PLURAL, singular: 'trainingjob', shortNames: ['tj'], categories: CATEGORIES },
    scope: 'Namespaced',
    conversion: {
      strategy: 'Webhook',
      webhook: {
        conversionReviewVersions: ['v1'],
        clientConfig: { service: { ...WEBHOOK_SERVICE } },
      },
    },
    versions: [
      {
        name: V1,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: trainingJobV1Schema },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'State', type: 'string', jsonPath: '.status.state' },
          { name: 'Progress', type: 'string', jsonPath: '.status.progress' },
          { name: 'Epoch', type: 'integer', jsonPath: '.status.currentEpoch' },
          { name: 'Workers', type: 'integer', jsonPath: '.spec.numWorkers' },
          { name: 'GPUs', type: 'integer', jsonPath: '.status.allocatedGPUs' },
          { name: 'Queue', type: 'integer', jsonPath: '.status.queue.position', description: 'Place in the namespace queue while Queued.' },
          age,
          { name: 'Priority', type: 'string', jsonPath: '.spec.priorityClassName', priority: 1 },
          { name: 'Waiting For', type: 'string', jsonPath: '.status.queue.reason', priority: 1 },
        ],
      },
      {
        name: V1ALPHA1,
        served: true,
        storage: false,
        deprecated: true,
        deprecationWarning: `${GROUP}/${V1ALPHA1} TrainingJob is deprecated; use ${API_VERSION_V1}`,
        schema: { openAPIV3Schema: trainingJobV1alpha1Schema },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Framework', type: 'string', jsonPath: '.spec.framework' },
          { name: 'Workers', type: 'integer', jsonPath: '.spec.workers' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
          age,
        ],
      },
    ],
  });
}

export function trainingPolicyCRD(): CustomResourceDefinition {
  return crd(TRAININGPOLICY_PLURAL, {
    names: { kind: TRAININGPOLICY_KIND, listKind: `${TRAININGPOLICY_KIND}List`, plural: TRAININGPOLICY_PLURAL, singular: 'trainingpolicy', shortNames: ['tpol'], categories: CATEGORIES },
    scope: 'Cluster',
    versions: [
      {
        name: V1,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: trainingPolicySchema },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'GPU Quota', type: 'integer', jsonPath: '.spec.gpuQuota' },
          { name: 'Max GPUs/Job', type: 'integer', jsonPath: '.spec.maxGPUsPerJob' },
          { name: 'Over Quota', type: 'string', jsonPath: '.spec.overQuota' },
          age,
        ],
      },
    ],
  });
}

export function jobRepositoryCRD(): CustomResourceDefinition {
  return crd(JOBREPOSITORY_PLURAL, {
    names: { kind: JOBREPOSITORY_KIND, listKind: `${JOBREPOSITORY_KIND}List`, plural: JOBREPOSITORY_PLURAL, singular: 'jobrepository', shortNames: ['jobrepo'], categories: CATEGORIES },
    scope: 'Namespaced',
    versions: [
      {
        name: V1,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: jobRepositorySchema },
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'URL', type: 'string', jsonPath: '.spec.url' },
          { name: 'Revision', type: 'string', jsonPath: '.status.lastAppliedRevision' },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Suspended', type: 'boolean', jsonPath: '.spec.suspend' },
          age,
        ],
      },
    ],
  });
}

// File name under manifests/crds/ → CRD, in install order.
export function allCRDs(): Array<{ file: string; crd: CustomResourceDefinition }> {
  return [trainingJobCRD(), trainingPolicyCRD(), jobRepositoryCRD()].map((c) => ({ file: `${c.metadata.name}.yaml`, crd: c }));
}
