import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { BoundedMap } from '../domain/bounded-map.js';
import { JobsError } from '../domain/jobs-error.js';
import { describeFirst, under } from './schema-errors.js';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped in the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

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
 */
export class SchemaValidators {
  private readonly ajv: Ajv2020;
  // Oldest first out: simpler than least-recently-used, and the hot schemas are compiled again at once.
  private readonly cache: BoundedMap<string, ValidateFunction>;

  constructor(capacity = 1000) {
    this.cache = new BoundedMap(capacity);
    this.ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
    addFormats(this.ajv as unknown as Ajv);
  }

  /**
   * The validator of a schema given as JSON text.
   * @throws JobsError `invalid_output_schema`, naming the offending field, when the schema is not a valid JSON Schema.
   */
  get(schemaText: string): ValidateFunction {
    const hit = this.cache.get(schemaText);
    if (hit) return hit;
    const schema = JSON.parse(schemaText) as unknown;
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema as object);
    } catch (error) {
      throw new JobsError('invalid_output_schema', this.explain(schema, error as Error));
    } finally {
      // Ajv also registers schemas that carry an $id; forget them so the next compile of the same $id works.
      this.ajv.removeSchema();
    }
    this.cache.set(schemaText, validate);
    return validate;
  }

  /**
   * Why a schema did not compile, in one sentence with paths under `brief.output_schema`: the first error of
   * the meta-schema (Ajv's own message says `data/type …` and lists every branch), or the unresolved `$ref`.
   */
  private explain(schema: unknown, error: Error & { missingRef?: string }): string {
    const suffix = ' (brief.output_schema must be a JSON Schema, draft 2020-12).';
    if (error.missingRef) {
      return `brief.output_schema has a $ref that does not resolve: ${JSON.stringify(error.missingRef)} (define it under $defs; remote schemas are never loaded).`;
    }
    const dialect = (schema as { $schema?: unknown } | null)?.$schema;
    if (dialect !== undefined && dialect !== DRAFT_2020_12 && dialect !== `${DRAFT_2020_12}#`) {
      // validateSchema throws here (no such meta-schema): say what to send instead.
      return `brief.output_schema.$schema is ${JSON.stringify(dialect)}; this server checks JSON Schema draft 2020-12: remove $schema or set it to "${DRAFT_2020_12}".`;
    }
    try {
      if (!this.ajv.validateSchema(schema as object) && this.ajv.errors?.length) {
        return describeFirst(this.ajv.errors, { name: under('brief.output_schema') }) + suffix;
      }
    } catch {
      // Whatever else the meta-schema check cannot take: the compile error below still says why.
    }
    return `brief.output_schema is not a valid JSON Schema (draft 2020-12): ${error.message}`;
  }

  /** Validates a result against a schema; resolves to the validator's errors, or null when it matches. */
  check(schemaText: string, value: unknown): ErrorObject[] | null {
    const validate = this.get(schemaText);
    return validate(value) ? null : (validate.errors ?? []);
  }
}
