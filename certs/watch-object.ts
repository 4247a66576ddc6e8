// Watches one named object and reports every change; the watch is re-opened with backoff whenever it ends.
import { Watch, type KubeConfig } from '@kubernetes/client-node';

export interface ObjectWatch {
  stop(): void;
}

const MAX_BACKOFF_MS = 30_000;

/** `path` is the collection URL (e.g. `/api/v1/namespaces/ns/secrets`); events for other names are filtered out server-side. */
export function watchObject({ kubeConfig, path, name, onChange, onError }: { kubeConfig: KubeConfig; path: string; name: string; onChange: () => void; onError: (err: unknown) => void }): ObjectWatch {
  const watch = new Watch(kubeConfig);
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failures = 0;

  const reopen = (err: unknown): void => {
    if (stopped) return;
    // The apiserver ends watches on its own timeout (no error); only real failures back off.
    failures = err ? failures + 1 : 0;
    if (err) onError(err);
    timer = setTimeout(() => void open(), Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures, 6)));
    timer.unref();
  };

  const open = async (): Promise<void> => {
    if (stopped) return;
    try {
      const c = await watch.watch(path, { fieldSelector: `metadata.name=${name}` }, () => {
        failures = 0;
        onChange();
      }, (err: unknown) => reopen(err));
      if (stopped) c.abort();
      else controller = c;
    } catch (err) {
      reopen(err);
    }
  };

  void open();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    },
  };
}
