// Multi-document YAML manifests as plain objects, each able to say on which line a field path sits, so a
// violation at `spec.gpusPerWorker` points at that key (offline `validate`, git sync file errors).
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit } from 'yaml';
import type { Document, Node } from 'yaml';

// yaml's own default; a legitimate manifest rarely has more than a handful of aliases.
export const DEFAULT_MAX_ALIAS_COUNT = 100;

export interface ManifestPosition {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

export interface ManifestProblem extends ManifestPosition {
  // stable kind of failure: a yaml error code (BAD_INDENT, DUPLICATE_KEY, ...) or ALIAS_LIMIT
  code: string;
  message: string;
}

export interface ManifestDocument {
  file: string;
  // 0-based position among the file's documents, empty ones included
  index: number;
  // first line of the document's content
  line: number;
  object: unknown;
  // Line of the field (kubectl-style path or segments); a field the file lacks gives its nearest ancestor's line.
  lineOf(field: string | readonly string[]): number;
}

export interface ManifestFile {
  file: string;
  documents: ManifestDocument[];
  problems: ManifestProblem[];
}

export interface ReadManifestsOptions {
  maxAliasCount?: number;
}

const PATH_SEGMENT = /\[([^\]]*)\]|([^.[\]]+)/g;

// spec.resources.limits[nvidia.com/gpu] → ['spec', 'resources', 'limits', 'nvidia.com/gpu']; '<root>' → [].
export function fieldSegments(field: string): string[] {
  if (field === '<root>') return [];
  return [...field.matchAll(PATH_SEGMENT)].map((m) => m[1] ?? m[2] ?? '');
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return key.value === null ? undefined : String(key.value);
  return undefined;
}

interface Located {
  node: unknown;
  offset: number;
}

// One step down the tree: the pair's key position for a map entry, the item's own position for a list entry.
function child(doc: Document, node: unknown, segment: string): Located | undefined {
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (isMap(target)) {
    const pair = target.items.find((p) => isPair(p) && keyText(p.key) === segment);
    const keyNode = pair?.key as Node | undefined;
    if (!pair || !keyNode?.range) return undefined;
    return { node: pair.value, offset: keyNode.range[0] };
  }
  if (isSeq(target) && /^\d+$/.test(segment)) {
    const item = target.items[Number(segment)] as Node | undefined;
    if (!item?.range) return undefined;
    return { node: item, offset: item.range[0] };
  }
  return undefined;
}

function documentOf(file: string, index: number, doc: Document, lines: LineCounter, object: unknown): ManifestDocument {
  const contents = doc.contents as Node | null;
  const start = contents?.range?.[0] ?? (doc.range?.[0] ?? 0);
  const line = lines.linePos(start).line;
  return {
    file,
    index,
    line,
    object,
    lineOf(field) {
      const segments = typeof field === 'string' ? fieldSegments(field) : field;
      let node: unknown = contents;
      let offset = start;
      for (const segment of segments) {
        const next = child(doc, node, segment);
        if (!next) break;
        ({ node, offset } = next);
      }
      return lines.linePos(offset).line;
    },
  };
}

function positionOf(file: string, doc: Document, lines: LineCounter): ManifestPosition {
  const { line, col } = lines.linePos((doc.contents as Node | null)?.range?.[0] ?? (doc.range?.[0] ?? 0));
  return { file, line, col };
}

// Points at the first alias, where the expansion starts.
function aliasLimitProblem(file: string, doc: Document, lines: LineCounter, max: number): ManifestProblem {
  let at: ManifestPosition = positionOf(file, doc, lines);
  visit(doc, {
    Alias(_key, node) {
      if (node.range) at = { file, ...lines.linePos(node.range[0]) };
      return visit.BREAK;
    },
  });
  return { ...at, code: 'ALIAS_LIMIT', message: `aliases expand past the limit of ${max}; refusing what looks like an alias bomb ("billion laughs")` };
}

// Pure: text in, documents and problems out. A document with a syntax error is reported, the others still read.
export function readManifests(text: string, file: string, opts: ReadManifestsOptions = {}): ManifestFile {
  const maxAliasCount = opts.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const documents: ManifestDocument[] = [];
  const problems: ManifestProblem[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const { line, col } = lines.linePos(e.pos[0]);
        problems.push({ file, line, col, code: e.code, message: e.message });
      }
      return;
    }
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount });
    } catch (err) {
      // yaml throws a ReferenceError once aliases expand past maxAliasCount
      if (err instanceof ReferenceError) problems.push(aliasLimitProblem(file, doc, lines, maxAliasCount));
      else problems.push({ ...positionOf(file, doc, lines), code: 'YAML', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    // `---` with nothing after it, or a file of comments: kubectl skips these too.
    if (object === null || object === undefined) return;
    documents.push(documentOf(file, index, doc, lines, object));
  });
  return { file, documents, problems };
}
