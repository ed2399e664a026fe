import type { ErrorObject } from 'ajv';

/**
 * Ajv's errors as short clauses that name the field and say what it must be. Shared by the request validation
 * (error handler), the compile of `brief.output_schema` and the check of a result against it.
 */
export interface DescribeOptions {
  /** The name shown for a field, given its dotted path (`brief.objective`, `observers[0]`, or '' for the whole). */
  name: (path: string) => string;
  /** The clause for a property the schema does not allow (`keyword`: additionalProperties or unevaluatedProperties). */
  notAllowed?: (name: string, keyword: string) => string;
}

/** One thing to report: a single error, or a failed union (anyOf/oneOf) with the errors of its branches. */
export interface Problem {
  error: ErrorObject;
  branches: ErrorObject[];
}

const isUnion = (e: ErrorObject) => e.keyword === 'anyOf' || e.keyword === 'oneOf';

/**
 * Groups the errors: a union's error comes after those of its branches (Ajv reports each branch, then the
 * union), so those are folded into it. `if` errors only repeat their `then`/`else` error and are dropped.
 */
export function problems(errors: ErrorObject[]): Problem[] {
  const out: Problem[] = [];
  for (const error of errors) {
    if (error.keyword === 'if') continue;
    if (!isUnion(error)) {
      out.push({ error, branches: [] });
      continue;
    }
    const own = error.schemaPath + '/';
    const parent = error.schemaPath.slice(0, error.schemaPath.lastIndexOf('/'));
    const branches: ErrorObject[] = [];
    while (out.length > 0) {
      const last = out[out.length - 1];
      const sp = last.error.schemaPath;
      // A branch error lies at or under the union's value and under its schema (or in a schema it references).
      if (!within(last.error.instancePath, error.instancePath) || !(sp.startsWith(own) || !sp.startsWith(parent))) break;
      out.pop();
      branches.unshift(...(last.branches.length > 0 ? last.branches : [last.error]));
    }
    out.push({ error, branches });
  }
  return out;
}

/** The clause (without a final period) for one problem. */
export function describeProblem(problem: Problem, options: DescribeOptions): string {
  const chosen = chosenBranch(problem);
  if (chosen !== problem) return describeProblem(chosen, options);
  const { error, branches } = problem;
  if (isUnion(error) && branches.length > 0) return describeUnion(error, branches, options);
  return describeError(error, options);
}

/**
 * In a union of objects told apart by a constant (`runtime`: `{"type": "worker"}` or `{"type": "model", …}`), the
 * first problem of the branch that the value's constant chose: the other branches only object that the value is
 * not of their kind. Any other problem is returned as it is. Needs Ajv's `verbose` errors (the union's schema and
 * value); without them every problem is returned as it is.
 */
export function chosenBranch(problem: Problem): Problem {
  const { error, branches } = problem;
  if (!isUnion(error) || branches.length === 0) return problem;
  const index = chosenIndex(error);
  if (index < 0) return problem;
  const own = `${error.schemaPath}/${index}/`;
  const [first] = problems(branches.filter((e) => e.schemaPath.startsWith(own)));
  return first ? chosenBranch(first) : problem;
}

/** The branch of a union told apart by a constant that the value's constant chose (-1: none, or no such union). */
function chosenIndex(union: ErrorObject): number {
  const tag = discriminatorOf(union);
  if (!tag || !isObject(union.data) || !Object.hasOwn(union.data, tag.key)) return -1;
  const value = JSON.stringify(union.data[tag.key]);
  return tag.values.findIndex((v) => JSON.stringify(v) === value);
}

/**
 * The key whose constant tells the branches of a union apart, with each branch's constant, when every branch is
 * an object schema with a different `const` at that key (the union's schema comes with Ajv's `verbose` errors).
 */
function discriminatorOf(union: ErrorObject): { key: string; values: unknown[] } | undefined {
  const schemas = union.schema;
  if (!Array.isArray(schemas) || schemas.length < 2) return undefined;
  const constants = schemas.map((schema: unknown) => {
    const properties = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
    return new Map(Object.entries(properties).filter(([, p]) => isObject(p) && Object.hasOwn(p, 'const')).map(([k, p]) => [k, (p as { const: unknown }).const]));
  });
  for (const key of constants[0].keys()) {
    if (!constants.every((c) => c.has(key))) continue;
    const values = constants.map((c) => c.get(key));
    if (new Set(values.map((v) => JSON.stringify(v))).size === values.length) return { key, values };
  }
  return undefined;
}

/** The clause for the first problem of a list of errors (the one Ajv stopped at, when allErrors is off). */
export function describeFirst(errors: ErrorObject[], options: DescribeOptions): string {
  const [first] = problems(errors);
  return first ? describeProblem(first, options) : `${options.name('')} is invalid`;
}

/**
 * A union that no branch matched. When every branch wants a fixed value or a type at the value itself, all
 * of them are named ("must be one of "a", "b""); when a branch got further (an error deeper down), that error
 * is the useful one; a branch that failed only on a constant one level down (a discriminator such as
 * `type: "webhook"`) is set aside unless every branch did.
 */
function describeUnion(union: ErrorObject, branches: ErrorObject[], options: DescribeOptions): string {
  const at = union.instancePath;
  // An object whose constant chose no branch (chosenBranch takes those that did): name that key and its values.
  const tag = discriminatorOf(union);
  if (tag && isObject(union.data) && chosenIndex(union) < 0) {
    const key = options.name(joinPath(fieldPath(at), tag.key));
    const allowed = mustBe(tag.values.map((value) => JSON.stringify(value)), []);
    return Object.hasOwn(union.data, tag.key) ? `${key} ${allowed}` : `${key} is required and ${allowed}`;
  }
  const discriminators = branches.filter((e) => e.keyword === 'const' && e.instancePath !== at);
  const rest = branches.filter((e) => !discriminators.includes(e) && !isUnion(e));
  if (rest.length === 0) {
    const paths = new Set(discriminators.map((e) => e.instancePath));
    if (paths.size === 1) return `${options.name(fieldPath(discriminators[0].instancePath))} ${mustBeOneOf(discriminators)}`;
    return describeError(discriminators[0] ?? union, options);
  }
  const deeper = rest.filter((e) => e.instancePath !== at);
  if (deeper.length > 0) {
    const deepest = deeper.reduce((a, b) => (b.instancePath.length > a.instancePath.length ? b : a));
    return describeError(deepest, options);
  }
  if (rest.every((e) => e.keyword === 'const' || e.keyword === 'enum' || e.keyword === 'type')) {
    return `${options.name(fieldPath(at))} ${mustBeOneOf(rest)}`;
  }
  return describeError(rest.find((e) => e.keyword !== 'type') ?? rest[0], options);
}

/** "must be one of "a", "b", or an array" from const, enum and type errors. */
function mustBeOneOf(errors: ErrorObject[]): string {
  const values: string[] = [];
  const types: string[] = [];
  for (const e of errors) {
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'const') values.push(JSON.stringify(p.allowedValue));
    else if (e.keyword === 'enum') values.push(...(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)));
    else if (e.keyword === 'type') types.push(...typeList(p.type).map(article));
  }
  return mustBe(values, types);
}

/** "must be one of "a", "b", or an array" from the allowed values (as JSON) and types (with their article). */
function mustBe(values: string[], types: string[]): string {
  const unique = [...new Set(values)];
  const kinds = [...new Set(types)];
  if (unique.length === 0) return `must be ${kinds.join(' or ')}`;
  if (unique.length === 1 && kinds.length === 0) return `must be ${unique[0]}`;
  return `must be one of ${unique.join(', ')}${kinds.length > 0 ? `, or ${kinds.join(' or ')}` : ''}`;
}

/** The clause for one validator error. */
export function describeError(error: ErrorObject, options: DescribeOptions): string {
  const path = fieldPath(error.instancePath);
  const at = (child?: string) => options.name(child === undefined ? path : joinPath(path, child));
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${at(String(p.missingProperty))} is required`;
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = at(String(p.additionalProperty ?? p.unevaluatedProperty));
      return options.notAllowed ? options.notAllowed(name, error.keyword) : `${name} is not allowed`;
    }
    case 'type':
      return `${at()} must be ${typeList(p.type).map(article).join(' or ')}`;
    case 'minLength':
      return p.limit === 1 ? `${at()} must not be empty` : `${at()} must be at least ${p.limit} characters long`;
    case 'maxLength':
      return `${at()} must be at most ${p.limit} characters long`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${at()} must be ${String(p.comparison)} ${p.limit}`;
    case 'multipleOf':
      return `${at()} must be a multiple of ${p.multipleOf}`;
    case 'minItems':
      return `${at()} must have at least ${p.limit} item(s)`;
    case 'maxItems':
      return `${at()} must have at most ${p.limit} items`;
    case 'maxProperties':
      return `${at()} must have at most ${p.limit} keys`;
    case 'minProperties':
      return `${at()} must have at least ${p.limit} field(s)`;
    case 'uniqueItems':
      return `${at()} must not repeat items`;
    case 'enum':
    case 'const':
      return `${at()} ${mustBeOneOf([error])}`;
    case 'pattern':
      return `${at()} is not in the expected format${describePattern(String(p.pattern))}`;
    case 'format':
      return `${at()} must be ${p.format === 'date-time' ? 'an RFC 3339 timestamp, e.g. 2026-03-19T12:00:00Z' : `a valid ${p.format}`}`;
    default:
      return `${at()} ${error.message ?? 'is invalid'}`;
  }
}

/** `/observers/0/events` → `observers[0].events` (JSON Pointer to the dotted path of the messages). */
export function fieldPath(instancePath: string): string {
  return pointerParts(instancePath).reduce((acc, part) => joinPath(acc, part), '');
}

/** The unescaped parts of a JSON Pointer. */
export function pointerParts(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `brief` + `objective` → `brief.objective`; `observers` + `0` → `observers[0]`. */
export function joinPath(base: string, part: string): string {
  if (/^\d+$/.test(part)) return `${base}[${part}]`;
  return base ? `${base}.${part}` : part;
}

function typeList(type: unknown): string[] {
  return Array.isArray(type) ? type.map(String) : String(type).split(',');
}

function article(type: string): string {
  if (type === 'object' || type === 'array' || type === 'integer') return `an ${type}`;
  if (type === 'null') return 'null';
  return `a ${type}`;
}

function describePattern(pattern: string): string {
  const prefix = /^\^(job|agt|evt|msg|dlv|key|wtk)_/.exec(pattern);
  if (prefix) return `: expected an id like ${prefix[1]}_01hxyz… (the prefix, _ and 26 lowercase ULID characters)`;
  if (pattern.startsWith('^whsec_')) return ': expected whsec_ followed by base64 of 24–64 random bytes';
  return ` (${pattern})`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `within('/a/b', '/a')`: the first pointer is the second or lies under it. */
function within(pointer: string, base: string): boolean {
  return pointer === base || pointer.startsWith(base + '/');
}

/**
 * Every distinct problem of a value checked against a schema, as clauses naming its parts under `subject`
 * (`result.summary`, `arguments.agent_id`): for results and tool arguments, where listing several helps.
 */
export function describeAll(errors: ErrorObject[], subject: string): string[] {
  const options: DescribeOptions = {
    name: under(subject),
    notAllowed: (name, keyword) => `${name} is not allowed (${keyword} is false)`,
  };
  return [...new Set(problems(errors).map((p) => describeProblem(p, options)))];
}

/** A field path under a fixed prefix: `under('result')('[0].n')` is `result[0].n`, `under('result')('')` is `result`. */
export function under(prefix: string): (path: string) => string {
  return (path) => (!path ? prefix : path.startsWith('[') ? prefix + path : `${prefix}.${path}`);
}
