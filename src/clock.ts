/** Time as the app sees it: injected so tests can control it, never read from `Date` directly in rules. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
