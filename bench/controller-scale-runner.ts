// `trainingjob controller` for the controller-scale benchmark, in its own process so its memory can
// be read from /proc without the benchmark's. It runs the real CLI (bin/trainingjob.js → cli/main.ts
// → `controller`, same flags, same logger) with one change: the controller's scrape of rank 0's
// metrics goes to kwok's fake pod IPs (10.244.0.0/16), which no one serves; such requests are
// answered here, in-process, with a fixed training exposition, as a reachable trainer would. So
// nothing leaves loopback, and a scrape costs what parsing a real one does, not a network timeout.
// usage: node bench/controller-scale-runner.ts [trainingjob controller flags...]
const podCidr = /^10\.244\.\d+\.\d+$/;
const exposition = [
  '# TYPE training_epoch gauge',
  'training_epoch 3',
  'training_total_epochs 10',
  'training_loss 0.42',
  'training_accuracy 0.87',
  'training_samples_per_second 1250',
  '',
].join('\n');

const realFetch = globalThis.fetch;
globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (podCidr.test(url.hostname)) return new Response(exposition, { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' } });
  return realFetch(input, init);
};

const { main } = await import('../cli/main.ts');
process.exitCode = await main(['controller', ...process.argv.slice(2)]);
