/**
 * When a failed delivery is tried again: the Standard Webhooks retry schedule. After the
 * first attempt fails the next ones follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
 * later (eight attempts over about 28 hours), each delay moved by up to 20 % either way
 * so that endpoints recovering from an outage are not hit by every retry at once.
 */

/** Delay before attempt n + 1, for n = 1..7 (index n - 1). */
export const RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
]);

/** Attempts a delivery gets in all: the first and one per scheduled retry. */
export const MAX_DELIVERY_ATTEMPTS = RETRY_SCHEDULE_MS.length + 1;

/** Relative spread of each delay: ±20 %. */
export const RETRY_JITTER = 0.2;

/**
 * Milliseconds to wait after failed attempt `attempt` (1 = the first) before the next
 * one, or undefined when it was the last. `random` gives a number in [0, 1): 0.5 is the
 * scheduled delay, 0 is 20 % earlier, values near 1 up to 20 % later.
 */
export function nextAttemptDelay(attempt: number, random: () => number = Math.random): number | undefined {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be a whole number from 1 (got ${attempt})`);
  const base = RETRY_SCHEDULE_MS[attempt - 1];
  if (base === undefined) return undefined;
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * r));
}
