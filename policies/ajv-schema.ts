// Turns a structural CRD schema into the ajv schema that behaves like the apiserver with strict field validation.
import { isPlainObject } from '../api/json.ts';
import type { JsonObject } from '../api/json.ts';

// Marks the int-or-string branch that came from a Quantity, so errors can say "not a valid quantity".
export const QUANTITY_KEYWORD = 'x-quantity';

const KUBERNETES_ONLY = new Set(['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string']);

function convertMap(map: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, toAjvSchema(v)]));
}

// Unknown fields are errors (kubectl's default --validate=strict) except where the schema keeps them.
export function toAjvSchema(schema: unknown): JsonObject {
  if (!isPlainObject(schema)) throw new Error('schema node must be an object');
  if (schema['x-kubernetes-int-or-string'] === true) {
    const pattern = typeof schema.pattern === 'string' ? schema.pattern : undefined;
    return {
      anyOf: [{ type: 'integer' }, pattern ? { type: 'string', pattern } : { type: 'string' }],
      ...(pattern ? { [QUANTITY_KEYWORD]: true } : {}),
    };
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(schema)) {
    if (KUBERNETES_ONLY.has(k)) continue;
    if (k === 'properties' && isPlainObject(v)) out[k] = convertMap(v);
    else if ((k === 'items' || k === 'additionalProperties') && isPlainObject(v)) out[k] = toAjvSchema(v);
    else if ((k === 'anyOf' || k === 'allOf' || k === 'oneOf') && Array.isArray(v)) out[k] = v.map(toAjvSchema);
    else if (k === 'enum' && Array.isArray(v)) out[k] = [...v];
    else if (k === 'required' && Array.isArray(v)) out[k] = [...v];
    else out[k] = v;
  }
  if (isPlainObject(schema.properties) && schema['x-kubernetes-preserve-unknown-fields'] !== true && schema.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}
