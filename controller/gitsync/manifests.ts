// The objects of one manifest file, each either accepted (a TrainingJob, forced into the repository's namespace and
// labelled with its source) or refused with the file and line — pure, so one bad document never blocks the others.
import { readManifests, DEFAULT_MAX_ALIAS_COUNT } from '../../api/manifest-documents.ts';
import type { ManifestDocument } from '../../api/manifest-documents.ts';
import { API_VERSION_V1, API_VERSION_V1ALPHA1, TRAININGJOB_KIND } from '../../api/group.ts';
import { isPlainObject as isObject, type JsonObject } from '../../api/json.ts';
import { DEFAULT_MAX_MANIFEST_BYTES } from '../gitsource/manifest-blob.ts';
import { withArgoCdAnnotations } from './argocd-tracking.ts';
import { GITOPS_MANAGER, MANAGED_BY_LABEL, REPOSITORY_LABEL, SOURCE_PATH_ANNOTATION, SOURCE_REPOSITORY_ANNOTATION, SOURCE_REVISION_ANNOTATION, repositoryLabelValue } from './source-metadata.ts';

export type ManifestEntry = { file: string; line: number; object: JsonObject } | { file: string; line: number; message: string };

export interface ManifestsOfFileOptions {
  /** Path from the repository root, as shown to users. */
  file: string;
  text: string;
  /** The JobRepository; its annotations say which Argo CD Application, if any, manages it. */
  repository: { namespace: string; name: string; annotations?: Record<string, string> | undefined };
  revision: string;
  maxBytes?: number;
  maxAliasCount?: number;
}

const SERVED = new Set<string>([API_VERSION_V1, API_VERSION_V1ALPHA1]);

function stringMap(v: unknown): Record<string, string> {
  return isObject(v) ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
}

function classify(doc: ManifestDocument, opts: ManifestsOfFileOptions): ManifestEntry {
  const { file } = opts;
  const obj = doc.object;
  if (!isObject(obj)) return { file, line: doc.line, message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' };
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
  if (kind !== TRAININGJOB_KIND) {
    return { file, line: doc.lineOf('kind'), message: `kind ${kind ?? '(missing)'} is not allowed: a JobRepository may only create TrainingJobs` };
  }
  if (typeof obj.apiVersion !== 'string' || !SERVED.has(obj.apiVersion)) {
    return { file, line: doc.lineOf('apiVersion'), message: `apiVersion ${String(obj.apiVersion ?? '(missing)')} is not served for TrainingJob: use ${API_VERSION_V1} or ${API_VERSION_V1ALPHA1}` };
  }
  const metadata = isObject(obj.metadata) ? obj.metadata : {};
  if (typeof metadata.name !== 'string' || metadata.name === '') {
    return { file, line: doc.lineOf('metadata.name'), message: 'metadata.name is required: git-managed jobs are applied by name' };
  }
  const namespace = opts.repository.namespace;
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    return { file, line: doc.lineOf('metadata.namespace'), message: `metadata.namespace ${String(metadata.namespace)} is not allowed: this JobRepository may only create TrainingJobs in namespace ${namespace}` };
  }
  const object = structuredClone(obj) as JsonObject;
  object.metadata = {
    ...metadata,
    namespace,
    labels: { ...stringMap(metadata.labels), [REPOSITORY_LABEL]: repositoryLabelValue(opts.repository), [MANAGED_BY_LABEL]: GITOPS_MANAGER },
    annotations: {
      ...withArgoCdAnnotations(stringMap(metadata.annotations), opts.repository, metadata.name),
      [SOURCE_REPOSITORY_ANNOTATION]: opts.repository.name, [SOURCE_PATH_ANNOTATION]: file, [SOURCE_REVISION_ANNOTATION]: opts.revision,
    },
  } as JsonObject;
  return { file, line: doc.line, object };
}

export function manifestsOfFile(opts: ManifestsOfFileOptions): ManifestEntry[] {
  const { file, text } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) return [{ file, line: 1, message: `file is ${bytes} bytes; manifest files are limited to ${maxBytes}` }];
  const read = readManifests(text, file, { maxAliasCount: opts.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT });
  const entries: ManifestEntry[] = read.problems.map((p) => ({ file, line: p.line, message: p.message }));
  for (const doc of read.documents) entries.push(classify(doc, opts));
  return entries.sort((a, b) => a.line - b.line);
}
