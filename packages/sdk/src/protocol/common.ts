import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ERROR_STATUS } from './errors.js';
import { idPattern, type IdKind } from './ids.js';

/** An RFC 3339 UTC timestamp with milliseconds, e.g. `2026-03-19T12:00:00.123Z`. */
export const Timestamp = Type.String({ format: 'date-time', examples: ['2026-03-19T12:00:00.000Z'] });

/** A timestamp that is `null` while the moment has not come (never missing). */
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** An id of the given kind (`job_…`, `agt_…`). */
export function Id(kind: IdKind, description?: string) {
  return Type.String({ pattern: idPattern(kind), description });
}

/** `T | null`. */
export function Nullable<T extends TSchema>(schema: T, options?: { description?: string }) {
  return Type.Union([schema, Type.Null()], options);
}

/** A lease token proves that the caller holds the current attempt of a job (the fencing token). */
export const LeaseToken = Type.String({ minLength: 1, maxLength: 200, description: 'The token of the claim that leased the job.' });

/** Any JSON value (results, tool inputs, metadata values). */
export const AnyJson = Type.Unknown({ description: 'Any JSON value' });

/** The body of every error response. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Union(Object.keys(ERROR_STATUS).map((code) => Type.Literal(code))),
      message: Type.String(),
      details: Type.Optional(Type.Unknown()),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error: a stable code, a message that says how to fix it.' },
);

/**
 * The body of a route that takes none (a POST such as `cancel`, or a DELETE): no body, or `{}`. A field in it is
 * an error naming the field, like an unknown field of any other body — never silently ignored.
 */
export const EmptyBody = Type.Object({}, { additionalProperties: false, description: 'This request takes no body: send none, or {}.' });

/** What an `Idempotency-Key` may be: 1–255 printable ASCII characters, without spaces. */
export const IDEMPOTENCY_KEY_PATTERN = '^[\\x21-\\x7e]{1,255}$';

/**
 * The headers of a POST that creates something and honours `Idempotency-Key`, as the OpenAPI document shows them
 * (the server checks the header where it reads it: see `idempotencyKeyOf`).
 */
export const IdempotencyHeaders = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        '1–255 printable ASCII characters. The same key with the same body within 24 hours returns the original response (with Idempotent-Replayed: true); with another body, 409 idempotency_key_reused.',
    }),
  ),
});

/**
 * The annotation of a querystring schema that names its `name[key]=value` parameters (validated by a
 * `patternProperties` entry, one query parameter per key) and gives each the schema of the object they form: the
 * OpenAPI document shows them as one `deepObject` parameter. Validation ignores it.
 */
export const DEEP_OBJECT_PARAMETERS = 'x-deep-object-parameters';

/** `?limit=&cursor=` on every list. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: '1–100, default 20' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
};

/** A page of a list, newest first. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), next_cursor: Nullable(Type.String()) });
}

/** Object metadata: up to 50 keys, 16 KiB serialised. Values are any JSON; filters compare them as text. */
export const Metadata = Type.Record(Type.String({ minLength: 1, maxLength: 40 }), AnyJson, {
  maxProperties: 50,
  description: 'Your own key/value pairs (up to 50 keys, 16 KiB).',
});

export type MetadataValue = Static<typeof Metadata>;
