import { ForwardResult } from './forwarder';
import { ListenOptions } from './listen-options';

/**
 * What `listen` prints on stdout (API.md §9): the ready message with the secret, then one line per
 * forward. With `--json`, one JSON object per line: `{"ready":true,"secret":…}` first, then
 * `{"eventId","type","status","durationMs"}` per forward (and `"error"` when no status came).
 */

export function readyOutput(options: Pick<ListenOptions, 'forwardTo' | 'events' | 'secret' | 'json'>): string {
  if (options.json) return `${JSON.stringify({ ready: true, secret: options.secret })}\n`;
  const which = options.events ? `${options.events.join(', ')} events` : 'every event';
  return `Ready! Forwarding ${which} to ${options.forwardTo.href} (Ctrl-C to quit)\nSigning secret: ${options.secret}\n`;
}

export function forwardOutput(result: ForwardResult, json: boolean): string {
  const { event, status, durationMs, error } = result;
  if (json) {
    return `${JSON.stringify({ eventId: event.id, type: event.type, status, durationMs, ...(error === null ? {} : { error }) })}\n`;
  }
  const answer = status === null ? `error: ${error}` : error === null ? String(status) : `${status} (${error})`;
  return `${result.startedAt.toISOString()}  ${event.type}  ${event.id}  -> ${answer}  ${durationMs} ms\n`;
}
