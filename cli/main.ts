// `trainingjob` command dispatcher: each subcommand lives in its own module.
import { certsCommand } from './certs.ts';
import { clusterCommand } from './cluster.ts';
import { demoCommand } from './demo.ts';
import { HarnessError } from '../test/harness/errors.ts';
import { UsageError } from './usage.ts';
import { webhookCommand } from './webhook.ts';

interface Subcommand {
  summary: string;
  run(args: string[]): Promise<number>;
}

const subcommands: Record<string, Subcommand> = {
  certs: { summary: 'webhook certificates: generate | inject | rotate | show', run: certsCommand },
  cluster: { summary: 'local control plane: up | down | status | build', run: clusterCommand },
  demo: { summary: 'start the local platform and walk through it', run: demoCommand },
  webhook: { summary: 'serve the admission and conversion webhook over HTTPS', run: webhookCommand },
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
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`trainingjob ${name}: ${err.message}\n`);
      return 2;
    }
    // Expected failures carry a message written for the user; anything else keeps its stack.
    const text = err instanceof HarnessError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`trainingjob ${name}: ${text}\n`);
    return 1;
  }
}
