// `trainingjob controller` for the controller-scale benchmark, in its own process so its memory can
// be read from /proc without the benchmark's. It runs the real CLI (bin/trainingjob.js → cli/main.ts
// → `controller`, same flags, same logger) with one change: the controller's scrape of rank 0's
// metrics goes to kwok's fake pod IPs (KWOK_POD_CIDR, on loopback), which no one serves; such requests
// are answered here, in-process, with a fixed training exposition, as a reachable trainer would. So a
// scrape costs what parsing a real one does, not a refused connection.
// usage: node bench/controller-scale-runner.ts [trainingjob controller flags...]
import { BlockList } from 'node:net';
import { KWOK_POD_CIDR } from '../localcluster/network.ts';

const podCidr = new BlockList();
podCidr.addSubnet(KWOK_POD_CIDR.split('/')[0]!, Number(KWOK_POD_CIDR.split('/')[1]), 'ipv4');
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
  if (podCidr.check(url.hostname, 'ipv4')) return new Response(exposition, { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' } });
  return realFetch(input, init);
};

const { main } = await import('../cli/main.ts');
process.exitCode = await main(['controller', ...process.argv.slice(2)]);
