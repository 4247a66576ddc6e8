// `trainingjob` command dispatcher: each subcommand lives in its own module.
import { isExpectedError, isParseArgsError, UsageError } from './usage.ts';

interface Subcommand {
  summary: string;
  /** Loaded only when the command runs, so `validate` does not pay for the cluster code (or break with it). */
  load(): Promise<(args: string[]) => Promise<number>>;
}

const subcommands: Record<string, Subcommand> = {
  certs: { summary: 'webhook certificates: generate | inject | rotate | show', load: async () => (await import('./certs.ts')).certsCommand },
  cluster: { summary: 'local control plane: up | down | status | build', load: async () => (await import('./cluster.ts')).clusterCommand },
  controller: { summary: 'run the TrainingJob controller (metrics :8080, health :8081)', load: async () => (await import('./controller.ts')).controllerCommand },
  demo: { summary: 'start the local platform and walk through it', load: async () => (await import('./demo.ts')).demoCommand },
  logs: { summary: "a TrainingJob's worker logs, each line prefixed with its rank (-f to follow)", load: async () => (await import('./logs.ts')).logsCommand },
  queue: { summary: 'queued TrainingJobs in start order, with what holds each back', load: async () => (await import('./queue.ts')).queueCommand },
  validate: { summary: "check TrainingJob manifests offline with the webhook's policies", load: async () => (await import('./validate.ts')).validateCommand },
  webhook: { summary: 'serve the admission and conversion webhook over HTTPS', load: async () => (await import('./webhook.ts')).webhookCommand },
};

function usage(): string {
  const rows = Object.entries(subcommands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['usage: trainingjob <command> [options]', '', 'commands:', ...rows, '', 'Run `trainingjob <command> --help` for its options.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd = subcommands[name];
  if (!cmd) {
    process.stderr.write(`trainingjob: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await (await cmd.load())(rest);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      process.stderr.write(`trainingjob ${name}: ${err.message}\n`);
      return 2;
    }
    // Expected failures carry a message written for the user; anything else keeps its stack.
    const text = isExpectedError(err) ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`trainingjob ${name}: ${text}\n`);
    return 1;
  }
}
