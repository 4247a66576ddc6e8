// V8 flags the long-running `trainingjob controller` process starts with (bin/trainingjob.js re-executes itself with them).
// V8 lets the young generation grow to 64 MB of semi-spaces that stay resident, and sizes the old one for speed:
// together they cut a fresh controller with 5,000 jobs from 483 to 240 MB RSS, for twice the CPU while it fills its
// caches (12.7 vs 6.5 s once per start) and the same CPU after (BENCHMARKS.md, controller-scale).
export const CONTROLLER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--optimize-for-size'];
