import { randomFillSync } from 'node:crypto';
import { userText } from './user-text';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Characters of an id's creation time: 62^8 ms last past the year 8000. */
const TIME_CHARS = 8;
/** Random characters of an id: ~95 bits. */
const RANDOM_CHARS = 16;

/** Random bytes drawn from the CSPRNG in bulk rather than one call per id. */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

/** `count` characters from [0-9A-Za-z], uniformly (rejection sampling, no modulo bias). */
export function randomAlphanumeric(count: number): string {
  const codes: number[] = [];
  while (codes.length < count) {
    const byte = randomByte();
    if (byte < 248) codes.push(ALPHABET.charCodeAt(byte % 62));
  }
  return String.fromCharCode(...codes);
}

/** `ms` in base 62, left-padded to TIME_CHARS, so that later times sort after earlier ones. */
function sortableTime(ms: number): string {
  const codes: number[] = new Array(TIME_CHARS);
  let rest = ms;
  for (let i = TIME_CHARS - 1; i >= 0; i -= 1) {
    codes[i] = ALPHABET.charCodeAt(rest % 62);
    rest = Math.floor(rest / 62);
  }
  return String.fromCharCode(...codes);
}

export type IdPrefix = 'acc' | 'key' | 'wh' | 'proj' | 'build' | 'evt' | 'dlv' | 'att';

/**
 * An unguessable, prefixed id of 24 alphanumerics: the creation time in milliseconds (8 characters),
 * then 16 random ones (~95 bits). Starting with the time makes new ids sort last, so SQLite appends
 * them to the end of each primary-key index instead of touching a random page of it per row, which
 * halves the database's work per delivery (and the pages each commit writes to the WAL).
 * `now` (ms) is the creation time: callers with an injected clock pass its time, so that ids agree
 * with the `createdAt` stored beside them and tests that move the clock see ids move with it.
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${sortableTime(now)}${randomAlphanumeric(RANDOM_CHARS)}`;
}

/**
 * An id as a client sent it, made safe to look up on either engine. Ids we issue are ASCII, so one
 * with U+0000 (which PostgreSQL refuses in any parameter, where SQLite compares it) or a lone
 * surrogate names nothing: it becomes text that matches no row (`userText`), and the lookup answers
 * as for any unknown id, `null` or `NOT_FOUND`. Services apply this where an id enters them.
 */
export function clientId<T extends string | null | undefined>(id: T): T {
  return userText(id);
}
