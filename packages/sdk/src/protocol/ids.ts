/**
 * Identifiers on the wire: a type prefix, `_`, and a lowercase ULID (26 characters of Crockford base32).
 * ULIDs sort by creation time, so lists and claims can order by id; they carry 80 random bits, so ids
 * cannot be guessed.
 */
export const ID_PREFIXES = {
  job: 'job',
  agent: 'agt',
  event: 'evt',
  message: 'msg',
  delivery: 'dlv',
  key: 'key',
  workerToken: 'wtk',
  tenant: 'ten',
  inputRequest: 'inp',
  jobMessage: 'jmg',
  artifact: 'art',
  schedule: 'sch',
  batch: 'bat',
} as const;

/** The kind of object an id names. */
export type IdKind = keyof typeof ID_PREFIXES;

const ULID_BODY = '[0-9a-hjkmnp-tv-z]{26}';

/** A regular expression source matching an id of the given kind, for schemas (`pattern`). */
export function idPattern(kind: IdKind): string {
  return `^${ID_PREFIXES[kind]}_${ULID_BODY}$`;
}

const matchers = new Map<IdKind, RegExp>(
  (Object.keys(ID_PREFIXES) as IdKind[]).map((kind) => [kind, new RegExp(idPattern(kind))]),
);

/** True when `value` is a well-formed id of the given kind. */
export function isId(kind: IdKind, value: string): boolean {
  return matchers.get(kind)!.test(value);
}
