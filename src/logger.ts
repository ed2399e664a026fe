import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout; credentials are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'agentjobs' },
    redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.lease_token', '*.secret'], censor: '[redacted]' },
  });
}
