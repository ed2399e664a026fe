import type { ResponseFormatJSONSchema } from 'openai/resources/shared';

type Schema = Record<string, unknown>;

// The keywords OpenAI's strict structured outputs accept. Anything else (minLength, allOf, not, if/then,
// patternProperties, uniqueItems…) makes a strict request fail with 400, so such schemas are sent non-strict.
const STRICT_KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf', '$ref', '$defs',
  'definitions', 'description', 'title', 'pattern', 'format', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'multipleOf', 'minItems', 'maxItems',
]);
const STRICT_FORMATS = new Set(['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid']);
const STRICT_TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
/** OpenAI's nesting limit for strict schemas. */
const STRICT_MAX_DEPTH = 10;

/**
 * True when OpenAI's strict mode accepts this schema: the root is an object; every object lists all its
 * properties in `required` and sets `additionalProperties: false`; only supported keywords and formats are used.
 * Strict mode makes the provider guarantee the shape, so it is asked for whenever the schema allows it.
 */
export function qualifiesForStrict(schema: Schema): boolean {
  if (schema.type !== 'object') return false;
  return strictNode(schema, 0);
}

function strictNode(node: unknown, depth: number): boolean {
  if (depth > STRICT_MAX_DEPTH || typeof node !== 'object' || node === null || Array.isArray(node)) return false;
  const schema = node as Schema;
  for (const key of Object.keys(schema)) if (!STRICT_KEYWORDS.has(key)) return false;
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (!types.every((t) => typeof t === 'string' && STRICT_TYPES.has(t))) return false;
  if (schema.format !== undefined && !STRICT_FORMATS.has(schema.format as string)) return false;
  if (types.includes('object') || schema.properties !== undefined) {
    const properties = (schema.properties ?? {}) as Schema;
    if (typeof properties !== 'object' || Array.isArray(properties)) return false;
    if (schema.additionalProperties !== false) return false;
    const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
    const names = Object.keys(properties);
    if (names.length !== required.length || !names.every((name) => required.includes(name))) return false;
    if (!names.every((name) => strictNode(properties[name], depth + 1))) return false;
  }
  if (schema.items !== undefined && !strictNode(schema.items, depth + 1)) return false;
  if (schema.anyOf !== undefined && !(Array.isArray(schema.anyOf) && schema.anyOf.every((s) => strictNode(s, depth + 1)))) return false;
  for (const defsKey of ['$defs', 'definitions']) {
    const defs = schema[defsKey];
    if (defs === undefined) continue;
    if (typeof defs !== 'object' || defs === null) return false;
    if (!Object.values(defs).every((s) => strictNode(s, depth + 1))) return false;
  }
  return true;
}

/**
 * The `response_format` for an output schema: `json_schema`, strict when {@link qualifiesForStrict}. The
 * root's `$schema` is dropped because providers do not need it and strict mode refuses unknown keywords.
 */
export function responseFormatFor(outputSchema: Schema): ResponseFormatJSONSchema {
  const { $schema: _ignored, ...schema } = outputSchema;
  const title = typeof schema.title === 'string' ? schema.title.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) : '';
  return {
    type: 'json_schema',
    json_schema: { name: title || 'result', schema, strict: qualifiesForStrict(schema) },
  };
}

/** A final message read as JSON, or why it could not be. */
export type ParsedReply = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Reads the model's final message as JSON. A single surrounding Markdown code fence is tolerated, because
 * models on endpoints that ignore `response_format` often add one around otherwise correct JSON.
 */
export function parseJsonReply(content: string): ParsedReply {
  const text = content.trim();
  const fenced = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(text);
  try {
    return { ok: true, value: JSON.parse(fenced ? fenced[1] : text) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
