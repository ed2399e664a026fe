import { Cron } from 'croner';
import { BoundedMap } from './bounded-map.js';
import { JobsError } from './jobs-error.js';
import type { Millis } from './time.js';

// Parsed patterns, by pattern and time zone: every fire of a schedule computes its next one.
const parsed = new BoundedMap<string, Cron>(1000);

/** True when `timezone` is an IANA time zone name this runtime knows (or "UTC"). */
export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The cron pattern of a schedule, checked: five fields, read in `timezone` (croner does the parsing and the
 * daylight-saving arithmetic). `field` prefixes field names in errors.
 * @throws JobsError invalid_request naming `cron` or `timezone`, saying how to fix it.
 */
export function cronPattern(cron: string, timezone: string, field = ''): Cron {
  if (!isTimeZone(timezone))
    throw new JobsError('invalid_request', `${field}timezone '${timezone}' is not an IANA time zone name; use one such as "Europe/Paris" or "UTC".`);
  const key = `${timezone}\u0000${cron}`;
  let pattern = parsed.get(key);
  if (!pattern) {
    try {
      pattern = new Cron(cron, { timezone, mode: '5-part' });
    } catch (error) {
      const why = (error as Error).message.replace(/^CronPattern: /, '');
      throw new JobsError('invalid_request', `${field}cron '${cron}' is not a cron pattern: ${why}. Use five fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *".`);
    }
    if (pattern.nextRun() == null) throw new JobsError('invalid_request', `${field}cron '${cron}' never fires; check its day and month fields.`);
    parsed.set(key, pattern);
  }
  return pattern;
}

/** The first fire time of the pattern strictly after `after`, or null when it never fires again. */
export function nextFireAfter(cron: string, timezone: string, after: Millis): Millis | null {
  return cronPattern(cron, timezone).nextRun(new Date(after))?.getTime() ?? null;
}
