/**
 * `logistics-hub mapping test <profile.yaml> <fixture> [--operation <op> | --inbound]`:
 * runs a WMS mapping profile (a WMS API's, or a file profile of a 3PL exchanging CSV files,
 * whose fixtures are the 3PL's CSV files) on a fixture without any network or database, so a profile
 * can be written and checked before a WMS is connected. Prints the canonical result as
 * JSON: for --inbound the events a webhook body becomes, for --operation the HTTP request
 * the canonical input becomes. A profile or mapping problem is reported with the file,
 * the line and the profile path, exit code 1; a usage mistake exits with 2.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { HubError } from '../../domain/errors.ts';
import { act, examples, optionsOf } from '../command.ts';
import { CliError, EXIT_FAILURE, EXIT_USAGE, UsageError } from '../errors.ts';
import { c, json } from '../output.ts';
import { buildRequest, mapInbound } from '../../connectors/wms/mappers.ts';
import { formatProblem, loadProfile, OPERATIONS, ProfileError, type OperationName } from '../../connectors/wms/profile.ts';
import { basename } from 'node:path';
import { FILE_OPERATIONS, FileProfileError, loadFileProfile, type FileOperation } from '../../connectors/wms-sftp/profile.ts';
import { buildFile, mapFile } from '../../connectors/wms-sftp/mappers.ts';
import { parseCsv } from '../../connectors/wms-sftp/csv.ts';

/** A file profile (a 3PL exchanging CSV files) has a top-level `csv:` section; a WMS API profile does not. */
const isFileProfile = (yamlText: string) => /^csv:/m.test(yamlText);

/** `mapping test` for a file profile: a CSV status file (--inbound) or a canonical input (--operation). */
async function testFileProfile(profileFile: string, fixtureFile: string, o: { operation?: string; inbound?: boolean }, overrides: Record<string, string>): Promise<number> {
  let profile;
  try {
    profile = loadFileProfile(profileFile);
  } catch (e) {
    if (!(e instanceof FileProfileError)) throw e;
    for (const p of e.problems) process.stderr.write(`${c.red('error:', process.stderr)} ${formatProblem(p)}\n`);
    return EXIT_FAILURE;
  }
  try {
    if (o.inbound) {
      const doc = parseCsv(readFileSync(fixtureFile), basename(fixtureFile));
      process.stdout.write(json(await mapFile(profile, doc, overrides)) + '\n');
    } else {
      if (!(FILE_OPERATIONS as readonly string[]).includes(o.operation!)) throw new UsageError(`a file profile has no operation ${o.operation}`, `one of ${FILE_OPERATIONS.join(', ')}`);
      const input = parseFixture(fixtureFile, readArg(fixtureFile, 'fixture')) as Record<string, unknown>;
      const f = await buildFile(profile, o.operation as FileOperation, input, { now: new Date(), overrides });
      process.stdout.write(json({ file: f.name, rows: f.rows, content: f.content }) + '\n');
    }
  } catch (e) {
    if (e instanceof HubError) return reportMappingError(e);
    throw e;
  }
  return 0;
}

/** Reads a file for the command; an unreadable file is a usage error (exit 2). */
function readArg(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { exitCode: EXIT_USAGE, fix: 'check the path' });
  }
}

/** The fixture as JSON; a syntax error names the file and where in it (exit 1). */
function parseFixture(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    let where = file;
    if (m) {
      const before = text.slice(0, Number(m[1]));
      const line = before.split('\n').length;
      where = `${file}:${line}:${before.length - before.lastIndexOf('\n')}`;
    }
    throw new CliError(`${where}: the fixture is not valid JSON: ${msg}`);
  }
}

function reportMappingError(e: HubError): number {
  const err = (s: string) => process.stderr.write(s + '\n');
  err(`${c.red('error:', process.stderr)} ${e.code}: ${e.message}`);
  for (const i of e.issues) err(`  ${i.path || '/'}: ${i.message}`);
  return EXIT_FAILURE;
}

export function mappingCommand(): Command {
  const mapping = new Command('mapping').description('check WMS mapping profiles offline (no network, no database)');
  const test = new Command('test')
    .description('run a profile on a fixture: an inbound webhook body (--inbound) or the canonical input of an outbound operation (--operation), and print the canonical result as JSON')
    .argument('<profile.yaml>', 'the mapping profile (e.g. src/connectors/wms/profiles/simwms.yaml)')
    .argument('<fixture>', 'a webhook body as the WMS sends it, or a CSV status file for a file profile (--inbound); or the canonical input of the operation as JSON (--operation)')
    .addOption(new Option('--operation <name>', 'map the canonical input into the request (or, for a file profile, the file) of this outbound operation').choices(OPERATIONS))
    .option('--inbound', 'map a webhook body into canonical events')
    .addOption(new Option('--const <name=value...>', "override a profile constant (bound as $name), e.g. --const warehouseId=loc-wh2"))
    .action(
      act(async (profileFile: string, fixtureFile: string, _o: unknown, self: Command) => {
        const o = optionsOf<{ operation?: OperationName; inbound?: boolean; const?: string[] }>(self);
        if (!!o.operation === !!o.inbound) throw new UsageError('give exactly one of --operation <name> and --inbound', 'e.g. `logistics-hub mapping test profile.yaml pick.json --inbound`');
        const overrides: Record<string, string> = {};
        for (const kv of o.const ?? []) {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(kv);
          if (!m) throw new UsageError(`--const ${kv}: expected name=value`);
          overrides[m[1]!] = m[2]!;
        }
        const profileText = readArg(profileFile, 'profile'); // an unreadable profile is a usage error; loadProfile reports its content
        if (isFileProfile(profileText)) return testFileProfile(profileFile, fixtureFile, o, overrides);
        const fixtureText = readArg(fixtureFile, 'fixture');
        let profile;
        try {
          profile = loadProfile(profileFile);
        } catch (e) {
          if (!(e instanceof ProfileError)) throw e;
          for (const p of e.problems) process.stderr.write(`${c.red('error:', process.stderr)} ${formatProblem(p)}\n`);
          return EXIT_FAILURE;
        }
        const fixture = parseFixture(fixtureFile, fixtureText);
        try {
          if (o.inbound) {
            const r = await mapInbound(profile, fixture, overrides);
            process.stdout.write(json(r) + '\n');
          } else {
            const r = await buildRequest(profile, o.operation!, fixture, overrides);
            process.stdout.write(json({ method: r.method, path: r.path, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) }) + '\n');
          }
        } catch (e) {
          if (e instanceof HubError) return reportMappingError(e);
          throw e;
        }
        return 0;
      }),
    );
  examples(test, [
    ['logistics-hub mapping test src/connectors/wms/profiles/simwms.yaml pick.json --inbound', 'the events a webhook becomes'],
    ['logistics-hub mapping test my-wms.yaml released.json --operation release', 'the request a release becomes'],
    ['logistics-hub mapping test src/connectors/wms-sftp/profiles/csv3pl.yaml PCK_20260302090600_000002_shp-1001.csv --inbound', 'the events a 3PL status file becomes'],
  ]);
  test.addHelpText('after', '\nExit codes: 0 mapped, 1 the profile or the mapping failed (file, line and path on stderr), 2 usage error.\n');
  mapping.addCommand(test);
  return examples(mapping, [['logistics-hub mapping test src/connectors/wms/profiles/simwms.yaml webhook.json --inbound', 'check a profile on a webhook body']]);
}
