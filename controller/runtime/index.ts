// The controller runtime's public surface: what reconcilers and the CLI import.
export { createManager, watchOf, LeadershipLostError } from './manager.ts';
export type { Manager, ManagerOptions, LeaderElectionConfig, ControllerSpec, Controller, WatchSpec, ReconcileContext, InformerRequest } from './manager.ts';
export { createInformer, objectPath, resourcePath } from './informer.ts';
export type { Informer, InformerOptions, EventHandlers, ResourceRef, InformerStats, CacheTransform } from './informer.ts';
export { createWorkQueue } from './work-queue.ts';
export type { WorkQueue, WorkQueueOptions, ReconcileResult, ReconcileOutcome, QueueMetrics } from './work-queue.ts';
export { startLeaderElection } from './leader-election.ts';
export type { LeaderElection, LeaderElectionOptions, Lease } from './leader-election.ts';
export { createRateLimiter, DEFAULT_CLIENT_QPS, DEFAULT_CLIENT_BURST } from './rate-limiter.ts';
export type { RateLimiter } from './rate-limiter.ts';
export { objectKey, splitKey, controllerOwnerKey } from './kube-object.ts';
export type { KubeObject, OwnerReference } from './kube-object.ts';
export { requestJson, statusCode } from './json-request.ts';
export type { JsonRequest } from './json-request.ts';
export { systemClock, sleep } from './clock.ts';
export { settleAll } from './settle-all.ts';
export type { Clock } from './clock.ts';
