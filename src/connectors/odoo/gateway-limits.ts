/**
 * Flow control for the Odoo gateway, independent of Odoo itself: a counting semaphore (the
 * per-Odoo in-flight limit), a token bucket (the rate limit), exponential backoff with
 * jitter, and a circuit breaker that holds every caller while the remote end is down and
 * releases them once a probe succeeds. Time comes from an injectable `Clock` and waiting
 * from an injectable `Sleep`, so tests can drive them with a FakeClock.
 */
import type { Clock } from '../../platform/clock.ts';

/** Waits `ms` milliseconds (real timers by default; tests may advance a fake clock instead). */
export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Releases a slot taken from a Semaphore; calling it twice is harmless. */
export type Release = () => void;

/** At most `limit` holders at a time; waiters are served first come, first served. */
export class Semaphore {
  readonly limit: number;
  #held = 0;
  #max = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Slots in use now. */
  get inUse(): number {
    return this.#held;
  }

  /** The most slots ever in use at once. */
  get maxInUse(): number {
    return this.#max;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#waiters.length;
  }

  async acquire(): Promise<Release> {
    if (this.#held >= this.limit) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    else this.#held++;
    this.#max = Math.max(this.#max, this.#held);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      // The slot passes straight to the next waiter: #held is unchanged.
      if (next) next();
      else this.#held--;
    };
  }
}

/** Token bucket: `ratePerSecond` tokens a second, up to `burst` saved. Infinity disables it. */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  #tokens: number;
  #last: number;

  constructor(o: { ratePerSecond: number; burst?: number; clock: Clock; sleep: Sleep }) {
    if (!(o.ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${o.ratePerSecond}`);
    this.ratePerSecond = o.ratePerSecond;
    this.burst = Math.max(1, o.burst ?? Math.ceil(Math.min(o.ratePerSecond, 1e9) / 10));
    this.#clock = o.clock;
    this.#sleep = o.sleep;
    this.#tokens = this.burst;
    this.#last = o.clock.now().getTime();
  }

  #refill(): void {
    const now = this.#clock.now().getTime();
    if (now > this.#last) this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.ratePerSecond) / 1000);
    this.#last = Math.max(this.#last, now);
  }

  /** Tokens in the bucket now (refilled up to this instant; fractions while one builds up). */
  get tokens(): number {
    if (this.ratePerSecond === Infinity) return this.burst;
    this.#refill();
    return this.#tokens;
  }

  /** Takes one token, waiting for it if the bucket is empty. */
  async take(): Promise<void> {
    if (this.ratePerSecond === Infinity) return;
    for (;;) {
      this.#refill();
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep(Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSecond)));
    }
  }
}

export interface BackoffPolicy {
  /** First delay (before jitter). Default 100 ms. */
  baseMs: number;
  /** Largest delay (before jitter). Default 5000 ms. */
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped,
 * with "equal jitter" (uniform in [d/2, d]) so that callers failing together spread out.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  threshold: number;
  /** Wait before the first probe once open; doubles after each failed probe up to maxCoolDownMs. */
  coolDownMs: number;
  maxCoolDownMs: number;
  /** One cheap call proving the remote end is back. */
  probe: () => Promise<unknown>;
  clock: Clock;
  sleep: Sleep;
  onChange?: (state: BreakerState, info: { failures: number; coolDownMs: number; error?: unknown }) => void;
}

/** Thrown to callers still waiting on a breaker that is disposed. */
export class BreakerDisposedError extends Error {
  constructor() {
    super('the circuit breaker was disposed while calls were waiting');
    this.name = 'BreakerDisposedError';
  }
}

/**
 * Closed: calls pass. Open: `admit()` holds every caller; after the cool-down one probe runs
 * (half-open); success closes the breaker and releases every waiter in arrival order, failure
 * opens it again with a longer cool-down. Nothing is dropped: waiters only ever wait.
 */
export class CircuitBreaker {
  readonly #o: BreakerOptions;
  #state: BreakerState = 'closed';
  #failures = 0;
  #coolDown: number;
  #openedAt = 0;
  #waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #disposed = false;
  #opens = 0;

  constructor(o: BreakerOptions) {
    this.#o = o;
    this.#coolDown = o.coolDownMs;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** How many times the breaker has opened. */
  get opens(): number {
    return this.#opens;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Resolves at once when closed; otherwise when the breaker closes. */
  admit(): Promise<void> {
    if (this.#disposed) return Promise.reject(new BreakerDisposedError());
    if (this.#state === 'closed') return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  success(): void {
    if (this.#state === 'closed') this.#failures = 0;
  }

  failure(error?: unknown): void {
    if (this.#state !== 'closed' || this.#disposed) return;
    this.#failures++;
    if (this.#failures >= this.#o.threshold) this.#open(error);
  }

  /** Stops probing and rejects the waiters (shutdown). */
  dispose(): void {
    this.#disposed = true;
    const w = this.#waiters;
    this.#waiters = [];
    for (const x of w) x.reject(new BreakerDisposedError());
  }

  #open(error?: unknown): void {
    this.#state = 'open';
    this.#opens++;
    this.#openedAt = this.#o.clock.now().getTime();
    this.#o.onChange?.('open', { failures: this.#failures, coolDownMs: this.#coolDown, error });
    void this.#probeLoop();
  }

  async #probeLoop(): Promise<void> {
    while (!this.#disposed) {
      for (;;) {
        const left = this.#openedAt + this.#coolDown - this.#o.clock.now().getTime();
        if (left <= 0 || this.#disposed) break;
        await this.#o.sleep(left);
      }
      if (this.#disposed) return;
      this.#state = 'half-open';
      this.#o.onChange?.('half-open', { failures: this.#failures, coolDownMs: this.#coolDown });
      try {
        await this.#o.probe();
      } catch (error) {
        if (this.#disposed) return;
        this.#state = 'open';
        this.#coolDown = Math.min(this.#o.maxCoolDownMs, this.#coolDown * 2);
        this.#openedAt = this.#o.clock.now().getTime();
        this.#o.onChange?.('open', { failures: this.#failures, coolDownMs: this.#coolDown, error });
        continue;
      }
      if (this.#disposed) return;
      this.#state = 'closed';
      this.#failures = 0;
      this.#coolDown = this.#o.coolDownMs;
      this.#o.onChange?.('closed', { failures: 0, coolDownMs: this.#coolDown });
      const w = this.#waiters;
      this.#waiters = [];
      for (const x of w) x.resolve();
      return;
    }
  }
}
