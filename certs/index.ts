// What the rest of the platform uses from certs/: the manager for webhook replicas, and the pieces the CLI composes.
export { startCertManager, type CertManager, type CertManagerOptions } from './manager.ts';
export { DEFAULT_LIFETIMES, resolveLifetimes, type Lifetimes } from './lifetimes.ts';
export { DEFAULT_SECRET, DEFAULT_TARGETS, serviceNames, type InjectionTargets, type SecretRef, type ServingNames } from './names.ts';
export { createCertBundle, servingPem, type CertBundle, type ServingPem } from './bundle.ts';
export { rotationPlan, type RotationPlan, type StoredCertFacts } from './rotation-plan.ts';
export { ensureCerts } from './ensure-certs.ts';
export { injectCABundle, type InjectionResult } from './inject.ts';
export { readStoredCerts } from './secret-store.ts';
export { writeCertFiles, CERT_FILES } from './cert-files.ts';
export { CertError, type CertErrorCode } from './errors.ts';
