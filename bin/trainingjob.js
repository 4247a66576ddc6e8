#!/usr/bin/env node
// Entry point of the `trainingjob` CLI; Node 24 runs the TypeScript sources directly (type stripping).
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`trainingjob needs Node.js 24 or newer (this is ${process.version}); run it through npm (npm run trainingjob -- ...) or npx, which use the node@24 dev dependency\n`);
  process.exit(2);
}
const args = process.argv.slice(2);
// The long-running controller starts over in place (same pid, so signals and the container runtime see no change)
// with its V8 flags; they cannot be set once the heap exists.
if (args[0] === 'controller' && process.env.TRAININGJOB_NODE_FLAGS !== 'applied') {
  const { CONTROLLER_NODE_FLAGS } = await import('../cli/node-flags.ts');
  // A flag the operator already gave (command line or NODE_OPTIONS), or turned off with --no-…, is theirs to keep.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map((f) => f.split('=')[0].replace(/^--no-/, '--'));
  const missing = CONTROLLER_NODE_FLAGS.filter((f) => !given.includes(f.split('=')[0]));
  if (missing.length > 0 && typeof process.execve === 'function') {
    process.execve(process.execPath, [process.execPath, ...missing, ...process.execArgv, fileURLToPath(import.meta.url), ...args], { ...process.env, TRAININGJOB_NODE_FLAGS: 'applied' });
  }
}
const { main } = await import('../cli/main.ts');
process.exitCode = await main(args);
