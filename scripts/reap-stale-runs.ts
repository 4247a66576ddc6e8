// After a test run: removes what killed test files left (processes, and a real node's namespaces, mounts
// and cgroups), which their own teardown never got to; the next cluster start would reap them too.
import { reapStaleRuns } from '../localcluster/runs.ts';

const reaped = reapStaleRuns();
if (reaped > 0) process.stdout.write(`reaped ${reaped} local cluster(s) that killed tests left behind\n`);
