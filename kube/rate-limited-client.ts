// Typed API clients whose every request first takes a token from the manager's shared rate limiter:
// a middleware cannot be forgotten at a call site the way a per-call wrapper can.
import { createConfiguration, Observable, ServerConfiguration, setHeaderMiddleware, type Configuration, type KubeConfig, type ObservableMiddleware } from '@kubernetes/client-node';
import type { RateLimiter } from './rate-limiter.ts';

export type ApiConstructor<T> = new (configuration: Configuration) => T;

export function makeRateLimitedClient<T>(kubeConfig: KubeConfig, api: ApiConstructor<T>, limiter: RateLimiter, userAgent: string): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const throttle: ObservableMiddleware = {
    pre: (ctx) => new Observable(limiter.acquire().then(() => ctx)),
    post: (ctx) => new Observable(Promise.resolve(ctx)),
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    middleware: [setHeaderMiddleware('User-Agent', userAgent), throttle],
  });
  return new api(configuration);
}
