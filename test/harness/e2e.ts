// The e2e setup most controller tests share: a control plane with GPU nodes, the platform (webhook,
// example policies), a pool of PersistentVolumes, a namespace with its default ServiceAccount, and
// the controller in this process — all torn down by tap.
import type { Test } from 'tap';
import { pino } from 'pino';
import { BatchV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { startController, type ControllerOptions, type RunningController } from '../../controller/start.ts';
import type { ControlPlane } from '../../localcluster/controlplane.ts';
import { installPlatform } from '../../localcluster/platform.ts';
import { controlPlaneFor, eventually } from './tap.ts';
import { createVolumePool } from '../../localcluster/volumes.ts';

export interface ControllerEnv {
  cp: ControlPlane;
  kc: KubeConfig;
  core: CoreV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  controller: RunningController;
  namespace: string;
}

export async function controllerEnv(t: Test, opts: { namespace: string; namespaceLabels?: Record<string, string>; controller?: Partial<ControllerOptions> }): Promise<ControllerEnv> {
  const cp = await controlPlaneFor(t, { workloads: { nodes: 2, gpusPerNode: 8 } });
  const kc = cp.kubeConfig();
  const platform = await installPlatform({ kubeConfig: kc, examplePolicies: true });
  t.teardown(() => platform.stop());
  const core = kc.makeApiClient(CoreV1Api);
  await createVolumePool(core, 10);
  await core.createNamespace({ body: { metadata: { name: opts.namespace, labels: opts.namespaceLabels ?? {} } } });
  await eventually(() => core.readNamespacedServiceAccount({ name: 'default', namespace: opts.namespace }));
  const controller = await startController({
    kubeConfig: kc,
    logger: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    metricsAddress: '127.0.0.1:0',
    healthAddress: '127.0.0.1:0',
    hooksAddress: '127.0.0.1:0',
    progressIntervalMs: 1000,
    // Every address here is loopback: a dial elsewhere is a harness bug, failed loudly, never sent.
    onNonLoopbackDial: (err) => t.fail(err.message),
    ...opts.controller,
  });
  t.teardown(() => controller.stop());
  return { cp, kc, core, batch: kc.makeApiClient(BatchV1Api), custom: kc.makeApiClient(CustomObjectsApi), controller, namespace: opts.namespace };
}
