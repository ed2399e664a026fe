import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { BoundedMap } from '../domain/bounded-map.js';
import { JobsError } from '../domain/jobs-error.js';
import { describeFirst, under } from '../domain/schema-errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped in the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

/** Where a schema sent by a client sits, for the messages of its errors. */
export type SchemaField = 'brief.output_schema' | 'input_schema';

/** The meta-schema `$schema` may name (with or without a final `#`): the dialect this server compiles. */
const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** An Ajv instance (draft-07, for our own wire schemas) with the standard string formats. */
export function createAjv(options: Options): Ajv {
  const ajv = new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/**
 * Compiles the `output_schema` of briefs (JSON Schema draft 2020-12) once and keeps the validators by schema
 * text, so that the thousandth dispatch with the same schema costs a map lookup, not a compile.
 * Schemas never load anything remote: Ajv is given no `loadSchema`.
 *
 * A schema sent now ({@link accept}) may use only the keywords and formats draft 2020-12 defines: a typo such
 * as `requird` would otherwise be ignored, and the schema would accept any result. A schema already stored
 * ({@link get}, when a job completes) is compiled as leniently as when it was accepted, so that a stricter
 * server never strands a job dispatched before it.
 */
export class SchemaValidators {
  private readonly strict: Ajv2020;
  private readonly lenient: Ajv2020;
  // Oldest first out: simpler than least-recently-used, and the hot schemas are compiled again at once.
  private readonly cache: BoundedMap<string, { validate: ValidateFunction; strict: boolean }>;

  constructor(capacity = 1000) {
    this.cache = new BoundedMap(capacity);
    // logger: false — Ajv would otherwise print warnings to the console, outside the server's JSON log.
    const options = { allErrors: true, strict: false, validateFormats: true, logger: false } as const;
    this.strict = new Ajv2020({ ...options, strictSchema: true });
    this.lenient = new Ajv2020(options);
    addFormats(this.strict as unknown as Ajv);
    addFormats(this.lenient as unknown as Ajv);
  }

  /**
   * The validator of a schema a client sends now, as JSON text. `field` names it in errors: a brief's
   * `brief.output_schema` (the default) or an input request's `input_schema`.
   * @throws JobsError `invalid_output_schema` (`invalid_input_schema` for `input_schema`), naming the offending
   * field or keyword, when the schema is not a valid JSON Schema or uses a keyword or format that draft 2020-12
   * does not define.
   */
  accept(schemaText: string, field: SchemaField = 'brief.output_schema'): ValidateFunction {
    const hit = this.cache.get(schemaText);
    if (hit?.strict) return hit.validate;
    return this.compile(schemaText, true, field);
  }

  /**
   * The validator of a stored schema (accepted when its job was dispatched), as JSON text.
   * @throws JobsError `invalid_output_schema` when the schema is not a valid JSON Schema.
   */
  get(schemaText: string): ValidateFunction {
    return this.cache.get(schemaText)?.validate ?? this.compile(schemaText, false);
  }

  private compile(schemaText: string, strict: boolean, field: SchemaField = 'brief.output_schema'): ValidateFunction {
    const ajv = strict ? this.strict : this.lenient;
    const schema = JSON.parse(schemaText) as unknown;
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema as object);
    } catch (error) {
      const code = field === 'input_schema' ? 'invalid_input_schema' : 'invalid_output_schema';
      throw new JobsError(code, this.explain(schema, error as Error, field));
    } finally {
      // Ajv also registers schemas that carry an $id; forget them so the next compile of the same $id works.
      ajv.removeSchema();
    }
    this.cache.set(schemaText, { validate, strict });
    return validate;
  }

  /**
   * Why a schema did not compile, in one sentence with paths under `field`: the first error of the meta-schema
   * (Ajv's own message says `data/type …` and lists every branch), or the unresolved `$ref`.
   */
  private explain(schema: unknown, error: Error & { missingRef?: string }, field: SchemaField): string {
    const suffix = ` (${field} must be a JSON Schema, draft 2020-12).`;
    if (error.missingRef) {
      return `${field} has a $ref that does not resolve: ${JSON.stringify(error.missingRef)} (define it under $defs; remote schemas are never loaded).`;
    }
    const dialect = (schema as { $schema?: unknown } | null)?.$schema;
    if (dialect !== undefined && dialect !== DRAFT_2020_12 && dialect !== `${DRAFT_2020_12}#`) {
      // validateSchema throws here (no such meta-schema): say what to send instead.
      return `${field}.$schema is ${JSON.stringify(dialect)}; this server checks JSON Schema draft 2020-12: remove $schema or set it to "${DRAFT_2020_12}".`;
    }
    try {
      if (!this.lenient.validateSchema(schema as object) && this.lenient.errors?.length) {
        return describeFirst(this.lenient.errors, { name: under(field) }) + suffix;
      }
    } catch {
      // Whatever else the meta-schema check cannot take: the compile error below still says why.
    }
    const keyword = /unknown keyword: "([^"]*)"/.exec(error.message)?.[1];
    if (keyword !== undefined) {
      return `${field} uses ${JSON.stringify(keyword)}, which is not a JSON Schema keyword (draft 2020-12): fix its spelling or remove it (unknown keywords are refused, so that a typo cannot quietly accept any result).`;
    }
    const format = /unknown format "([^"]*)" ignored in schema at path "([^"]*)"/.exec(error.message);
    if (format) {
      const at = format[2].replace(/^#/, '').replaceAll('/', '.');
      return `${field}${at}.format is ${JSON.stringify(format[1])}, a format this server does not check; use one of ${Object.keys(this.strict.formats).join(', ')}, or remove it.`;
    }
    return `${field} is not a valid JSON Schema (draft 2020-12): ${error.message}`;
  }

  /** Validates a result against a schema; resolves to the validator's errors, or null when it matches. */
  check(schemaText: string, value: unknown): ErrorObject[] | null {
    const validate = this.get(schemaText);
    return validate(value) ? null : (validate.errors ?? []);
  }
}
