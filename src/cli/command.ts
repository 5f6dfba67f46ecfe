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
