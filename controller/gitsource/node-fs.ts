// The file system the git code is given: Node's fs (isomorphic-git uses its callbacks, size checks its promises).
import type * as fs from 'node:fs';

export type NodeFs = typeof fs;
