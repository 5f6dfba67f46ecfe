/**
 * Retry policy by error class. Transient errors back off exponentially with full jitter
 * up to a cap, honouring a delay the error asks for (Retry-After); after maxAttempts
 * they become dead letters. Permanent errors are dead-lettered after one attempt;
 * business errors become exception records and the key moves on.
 */
import type { ErrorClass } from '../domain/errors.ts';

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

export type Decision =
  | { action: 'retry'; delayMs: number }
  | { action: 'dead'; reason: string }
  | { action: 'exception' };

/**
 * @param attempt the attempt that just failed (1 for the first)
 * @param random a number in [0, 1) (injected so tests are deterministic)
 */
export function decide(policy: RetryPolicy, errorClass: ErrorClass, attempt: number, retryAfterMs?: number, random: number = Math.random()): Decision {
  if (errorClass === 'business') return { action: 'exception' };
  if (errorClass === 'permanent') return { action: 'dead', reason: 'permanent error' };
  if (attempt >= policy.maxAttempts) return { action: 'dead', reason: `transient error persisted through ${attempt} attempts` };
  return { action: 'retry', delayMs: backoff(policy, attempt, retryAfterMs, random) };
}

/**
 * Exponential backoff with "equal jitter": uniform in [ceiling/2, ceiling], ceiling = min(max, base * 2^(attempt-1)).
 * Half the delay is guaranteed (no thundering retry right away), half is spread.
 */
export function backoff(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + (ceiling / 2) * random);
  return Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0));
}
