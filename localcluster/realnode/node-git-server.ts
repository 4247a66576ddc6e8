// Git hosting for the real node's cluster: the smart-HTTP git server (../git-server.ts) run inside the node's
// network namespace, so the in-cluster controller fetches from the node's address while people push through
// the loopback bridge. Run as a script:  node-git-server.ts ROOT PORT   (inside the node's namespace)
import { startGitServer } from '../git-server.ts';

if (import.meta.main) {
  const [root, port] = process.argv.slice(2);
  if (!root || !port || !/^\d+$/.test(port)) {
    process.stderr.write('usage: node-git-server.ts ROOT PORT\n');
    process.exit(2);
  }
  // Every address of the namespace: pods reach the node's IP, the bridge agent its loopback; nothing routes out.
  startGitServer({ root, host: '0.0.0.0', port: Number(port), pushFromLoopbackOnly: true }).then(
    (s) => process.stdout.write(`ready ${s.port}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
