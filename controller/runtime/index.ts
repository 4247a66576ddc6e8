// The controller runtime's public surface: the manager, its work queue and leader election. The
// Kubernetes client pieces they use (informers, requests, rate limiter) are in kube/.
export { createManager, watchOf, LeadershipLostError } from './manager.ts';
export type { Manager, ManagerOptions, LeaderElectionConfig, ControllerSpec, Controller, WatchSpec, ReconcileContext, InformerRequest } from './manager.ts';
export { createWorkQueue } from './work-queue.ts';
export type { WorkQueue, WorkQueueOptions, ReconcileResult, ReconcileOutcome, QueueMetrics } from './work-queue.ts';
export { startLeaderElection } from './leader-election.ts';
export type { LeaderElection, LeaderElectionOptions, Lease } from './leader-election.ts';
export { settleAll } from './settle-all.ts';
