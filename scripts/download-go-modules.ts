// Setup phase: downloads the upstream Go modules whose files the tests read (CRDs, rules), so that the
// test phase needs no registry (tests read them with GOPROXY=off).
import { downloadUpstreamModules } from '../localcluster/go-module.ts';

downloadUpstreamModules((line) => process.stderr.write(`${line}\n`));
