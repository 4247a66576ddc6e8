// The one Kubernetes client layer, used by the webhook, the controller, certs and the CLI alike:
// kubeconfig, JSON requests over one keep-alive pool, the client rate limiter, resource paths,
// informers, the one small client every component calls the API through, API error messages and the
// loopback-only dial guard.
export { loadKubeConfig, KeepAliveKubeConfig } from './kubeconfig.ts';
export { requestJson, statusCode } from './json-request.ts';
export type { JsonRequest } from './json-request.ts';
export { createRateLimiter, DEFAULT_CLIENT_QPS, DEFAULT_CLIENT_BURST } from './rate-limiter.ts';
export type { RateLimiter } from './rate-limiter.ts';
export { createInformer, objectPath, resourcePath } from './informer.ts';
export type { Informer, InformerOptions, EventHandlers, ResourceRef, InformerStats, CacheTransform } from './informer.ts';
export { objectKey, splitKey, controllerOwnerKey } from './kube-object.ts';
export type { KubeObject, OwnerReference } from './kube-object.ts';
export { isLoopbackCidr, isLoopbackHost, loopbackOnly, NonLoopbackDialError } from './dial-guard.ts';
export type { DialGuard } from './dial-guard.ts';
export { apiErrorMessage, describeApiError } from './api-error.ts';
export { indexBy } from './informer-index.ts';
export { newerVersion, newestVersion } from './resource-version.ts';
export { createKubeClient, isNotFound } from './client.ts';
export type { KubeClient, KubeClientOptions, KubeList, ListOptions, ObjectRef, PatchType, DeleteOptions } from './client.ts';
