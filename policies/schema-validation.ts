// ajv (strict mode) compiled from the CRD schemas: validation with every error at once, and the CRD defaults.
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { toAjvSchema, QUANTITY_KEYWORD } from './ajv-schema.ts';
import { schemaErrorsToViolations } from './schema-messages.ts';
import type { Violation } from './violation.ts';
import { trainingJobV1Schema } from '../api/trainingjob-v1-schema.ts';
import { trainingJobV1alpha1Schema } from '../api/trainingjob-v1alpha1-schema.ts';
import { trainingPolicySchema } from '../api/trainingpolicy-schema.ts';
import { jobRepositorySchema } from '../api/jobrepository-schema.ts';
import { cloneJson } from '../api/json.ts';

export type SchemaName = 'TrainingJob/v1' | 'TrainingJob/v1alpha1' | 'TrainingPolicy/v1' | 'JobRepository/v1';

const SCHEMAS: Record<SchemaName, unknown> = {
  'TrainingJob/v1': trainingJobV1Schema,
  'TrainingJob/v1alpha1': trainingJobV1alpha1Schema,
  'TrainingPolicy/v1': trainingPolicySchema,
  'JobRepository/v1': jobRepositorySchema,
};

// RFC 3339 as the apiserver accepts it for format: date-time.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function newAjv(useDefaults: boolean): Ajv {
  const ajv = new Ajv({
    strict: true,
    allErrors: true,
    verbose: true,
    useDefaults,
    formats: {
      'date-time': DATE_TIME,
      // The integer width is enforced by minimum/maximum where it matters.
      int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 },
      int64: { type: 'number', validate: (n: number) => Number.isSafeInteger(n) },
    },
  });
  ajv.addKeyword({ keyword: QUANTITY_KEYWORD, schemaType: 'boolean' });
  return ajv;
}

interface Compiled {
  validate: ValidateFunction;
  applyDefaults: ValidateFunction;
}

const compiled = new Map<SchemaName, Compiled>();
let validating: Ajv | undefined;
let defaulting: Ajv | undefined;

function get(name: SchemaName): Compiled {
  let c = compiled.get(name);
  if (!c) {
    validating ??= newAjv(false);
    defaulting ??= newAjv(true);
    const schema = toAjvSchema(SCHEMAS[name]);
    c = { validate: validating.compile(schema), applyDefaults: defaulting.compile(schema) };
    compiled.set(name, c);
  }
  return c;
}

export function schemaErrors(name: SchemaName, obj: unknown): ErrorObject[] {
  const { validate } = get(name);
  return validate(obj) ? [] : [...(validate.errors ?? [])];
}

export function validateAgainstSchema(name: SchemaName, obj: unknown): Violation[] {
  return schemaErrorsToViolations(schemaErrors(name, obj));
}

// A copy with the schema's defaults filled in, the way the apiserver's structural defaulting does it.
export function withSchemaDefaults<T>(name: SchemaName, obj: T): T {
  const copy = cloneJson(obj);
  get(name).applyDefaults(copy);
  return copy;
}

// The same defaults written into `obj` itself, for a copy the caller already owns.
export function fillSchemaDefaults(name: SchemaName, obj: unknown): void {
  get(name).applyDefaults(obj);
}
