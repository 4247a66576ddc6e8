// Names of a TrainingJob's children, derived only from its name, so every reconcile finds the same objects.
import { createHash } from 'node:crypto';

// A pod hostname is "<job name>-<index>" and must be a 63-character DNS label; indexes go up to 31.
const MAX_WORKER_JOB_NAME = 63 - '-31'.length;
const MAX_DNS_LABEL = 63;
const MAX_DNS_SUBDOMAIN = 253;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function hash8(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

// "<base><suffix>" when valid; otherwise a DNS-1035 label from a truncated base plus a hash of the whole, so names stay unique.
function derivedName(base: string, suffix: string, max: number, valid: RegExp): string {
  const plain = `${base}${suffix}`;
  if (plain.length <= max && valid.test(plain)) return plain;
  const tag = `-${hash8(plain)}`;
  let head = base.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '');
  head = head.slice(0, Math.max(0, max - tag.length - suffix.length)).replace(/-+$/, '');
  return `${head || 'tj'}${tag}${suffix}`;
}

// Service names are DNS-1035 labels; the pod subdomain must equal it.
export function workerServiceName(jobName: string): string {
  return derivedName(jobName, '-workers', MAX_DNS_LABEL, DNS_1035_LABEL);
}

// "<name>-workers" for the first run, "<name>-workers-r<N>" for restart N: a restart is a new Job, never a reused name.
export function workerJobName(jobName: string, restartCount: number): string {
  const suffix = restartCount > 0 ? `-workers-r${restartCount}` : '-workers';
  return derivedName(jobName, suffix, MAX_WORKER_JOB_NAME, DNS_1035_LABEL);
}

export function configMapName(jobName: string): string {
  return derivedName(jobName, '-config', MAX_DNS_SUBDOMAIN, DNS_1123_SUBDOMAIN);
}

export function checkpointPVCName(jobName: string): string {
  return derivedName(jobName, '-checkpoints', MAX_DNS_SUBDOMAIN, DNS_1123_SUBDOMAIN);
}

// Indexed Job pods get hostname "<job>-<index>"; with the headless Service as subdomain, rank 0 has a stable DNS name.
export function masterAddress(jobName: string, namespace: string, restartCount: number): string {
  return `${workerJobName(jobName, restartCount)}-0.${workerServiceName(jobName)}.${namespace}.svc`;
}

// Label values hold at most 63 characters; longer TrainingJob names are shortened with a hash.
export function trainingJobLabelValue(jobName: string): string {
  if (jobName.length <= MAX_DNS_LABEL && LABEL_VALUE.test(jobName)) return jobName;
  return derivedName(jobName, '', MAX_DNS_LABEL, LABEL_VALUE);
}
