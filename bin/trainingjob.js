#!/usr/bin/env node
// Entry point of the `trainingjob` CLI; Node 24 runs the TypeScript sources directly (type stripping).
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`trainingjob needs Node.js 24 or newer (this is ${process.version}); run it through npm (npm run trainingjob -- ...) or npx, which use the node@24 dev dependency\n`);
  process.exit(2);
}
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
