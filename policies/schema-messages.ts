// ajv errors rewritten the kubectl way: "spec.gpusPerWorker: 12 exceeds the maximum 8".
import type { ErrorObject } from 'ajv';
import { QUANTITY_KEYWORD } from './ajv-schema.ts';
import { show } from './violation.ts';
import type { Violation } from './violation.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

// JSON pointer → spec.tolerations[0].effect, map keys that are not identifiers in brackets.
export function fieldPath(pointer: string, extra?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) segments.push(extra);
  let out = '';
  for (const seg of segments) {
    if (/^\d+$/.test(seg) || !IDENTIFIER.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '<root>' : out;
}

function list(values: readonly unknown[]): string {
  return values.map(show).join(', ');
}

function translate(e: ErrorObject): Violation | undefined {
  const p = e.params as Record<string, unknown>;
  const at = (field: string, message: string, reason: string): Violation => ({ field, message: `${field}: ${message}`, reason });
  const field = fieldPath(e.instancePath);
  switch (e.keyword) {
    case 'required':
      return at(fieldPath(e.instancePath, String(p.missingProperty)), 'Required value', 'FieldValueRequired');
    case 'additionalProperties':
      return at(fieldPath(e.instancePath, String(p.additionalProperty)), 'unknown field', 'FieldValueUnknown');
    case 'maximum':
      return at(field, `${show(e.data)} exceeds the maximum ${String(p.limit)}`, 'FieldValueTooLarge');
    case 'minimum':
      return at(field, `${show(e.data)} is less than the minimum ${String(p.limit)}`, 'FieldValueTooSmall');
    case 'enum':
      return at(field, `Unsupported value: ${show(e.data)}: supported values: ${list(p.allowedValues as unknown[])}`, 'FieldValueNotSupported');
    case 'type':
      return at(field, `${show(e.data)} must be of type ${String(p.type)}`, 'FieldValueTypeInvalid');
    case 'anyOf': {
      const quantity = (e.parentSchema as Record<string, unknown> | undefined)?.[QUANTITY_KEYWORD] === true;
      return at(field, quantity ? `${show(e.data)} is not a valid quantity (e.g. 500m, 4Gi, 2)` : `${show(e.data)} must be an integer or a string`, 'FieldValueInvalid');
    }
    case 'minLength':
      return at(field, p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`, 'FieldValueInvalid');
    case 'maxLength':
      return at(field, `must be at most ${String(p.limit)} characters`, 'FieldValueTooLong');
    case 'minItems':
      return at(field, `must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`, 'FieldValueRequired');
    case 'maxItems':
      return at(field, `must have at most ${String(p.limit)} items`, 'FieldValueTooMany');
    case 'maxProperties':
      return at(field, `at most ${String(p.limit)} of ${list(Object.keys((e.parentSchema as { properties?: object }).properties ?? {}))} may be set`, 'FieldValueForbidden');
    case 'pattern':
      return at(field, `${show(e.data)} does not match ${String(p.pattern)}`, 'FieldValueInvalid');
    case 'format':
      return at(field, `${show(e.data)} is not a valid ${String(p.format)}`, 'FieldValueInvalid');
    default:
      return at(field, e.message ?? 'is invalid', 'FieldValueInvalid');
  }
}

// Branch errors under an anyOf are folded into the anyOf's own message.
export function schemaErrorsToViolations(errors: readonly ErrorObject[]): Violation[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const seen = new Set<string>();
  const out: Violation[] = [];
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    const v = translate(e);
    if (v && !seen.has(v.message)) {
      seen.add(v.message);
      out.push(v);
    }
  }
  return out;
}
