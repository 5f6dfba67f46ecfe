/** Small helpers to declare commands the same way everywhere. */
import type { Command } from 'commander';
import type { GlobalOptions } from './context.ts';

/** Adds an "Examples:" section to a command's --help. */
export function examples(cmd: Command, lines: [string, string?][]): Command {
  const width = Math.max(...lines.map(([l]) => l.length));
  const text = lines.map(([l, why]) => `  $ ${why ? l.padEnd(width) + '   # ' + why : l}`).join('\n');
  return cmd.addHelpText('after', `\nExamples:\n${text}`);
}

/** The options of a command together with the global ones. */
export function optionsOf<T>(cmd: Command): T & GlobalOptions {
  return cmd.optsWithGlobals<T & GlobalOptions>();
}

/**
 * Wraps an action: its result is the exit code (undefined = 0). Errors propagate to
 * main, which reports them.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function act(fn: (...args: any[]) => Promise<number | void>): (...args: any[]) => Promise<void> {
  return async (...args) => {
    const code = await fn(...args);
    process.exitCode = code ?? 0;
  };
}

const STOP_TIMEOUT_MS = 30_000;

/** What runs until a signal stops it, and whether it is stopping (a second signal then exits at once). */
export interface SignalStop {
  /** resolves with the exit code once `stop` has finished after SIGINT, SIGTERM or SIGHUP */
  done: Promise<number>;
  stopping: boolean;
}

/**
 * Stops `what` on SIGINT, SIGTERM or SIGHUP: says so on stderr, runs `stop`, and resolves with
 * 0 (or 1 when stopping failed). A second signal exits at once (130); a stop that takes longer
 * than 30 s exits anyway (1).
 */
export function stopOnSignal(o: { what: string; doing: string; stop: () => Promise<void>; stopped: () => string }): SignalStop {
  const s: SignalStop = { stopping: false, done: Promise.resolve(0) };
  s.done = new Promise<number>((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (s.stopping) {
        process.stderr.write(`${signal} again: exiting without waiting for a clean stop\n`);
        process.exit(130);
      }
      s.stopping = true;
      process.stderr.write(`${signal} received: stopping ${o.doing}...\n`);
      const guard = setTimeout(() => {
        process.stderr.write(`${o.what} did not stop within ${STOP_TIMEOUT_MS / 1000} s; exiting anyway\n`);
        process.exit(1);
      }, STOP_TIMEOUT_MS);
      guard.unref();
      o.stop().then(
        () => {
          clearTimeout(guard);
          process.stderr.write(`${o.stopped()}\n`);
          done(0);
        },
        (e: unknown) => {
          clearTimeout(guard);
          process.stderr.write(`error while stopping: ${(e as Error).message}\n`);
          done(1);
        },
      );
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  });
  return s;
}
