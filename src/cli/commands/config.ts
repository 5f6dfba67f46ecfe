/** `logistics-hub config show|schema`: the effective configuration and its JSON Schema. */
import { Command } from 'commander';
import type { TSchema } from '@sinclair/typebox';
import { stringify } from 'yaml';
import { ConfigSchema, type HubConfig } from '../../platform/config.ts';
import { redactUrl } from '../../platform/db.ts';
import { act, examples, optionsOf } from '../command.ts';
import { loadCliConfig } from '../context.ts';
import { json } from '../output.ts';

const SECRET_NAME = /pass(word)?|secret|token|api[-_]?key|credential/i;

/** A copy with passwords in URLs and secret-looking keys hidden. */
export function redactConfig(value: unknown, name = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_NAME.test(name)) return '***';
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*@/i.test(value)) return value.split(',').map((u) => (/@/.test(u) ? redactUrl(u.trim()) : u)).join(',');
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, name));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactConfig(v, k)]));
  return value;
}

/** Keys in the order of the schema (the order of the reference documentation). */
function schemaOrder(value: unknown, schema: TSchema | undefined): unknown {
  const props = (schema as { properties?: Record<string, TSchema> } | undefined)?.properties;
  if (!props || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const v = value as Record<string, unknown>;
  const keys = [...Object.keys(props).filter((k) => k in v), ...Object.keys(v).filter((k) => !(k in props))];
  return Object.fromEntries(keys.map((k) => [k, schemaOrder(v[k], props[k])]));
}

/** Drops keys that have defaults from `required`: in the file every key is optional. */
function optionalDefaults(schema: unknown): unknown {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const s = { ...(schema as Record<string, unknown>) };
  const props = s.properties as Record<string, Record<string, unknown>> | undefined;
  if (props) {
    s.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, optionalDefaults(v)]));
    if (Array.isArray(s.required)) {
      const req = (s.required as string[]).filter((k) => props[k]?.default === undefined);
      if (req.length) s.required = req;
      else delete s.required;
    }
  }
  return s;
}

/** The configuration JSON Schema (draft 2020-12), without TypeBox's internal markers. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'odoo-logistics-hub configuration',
    description: 'hub.yaml: every key is optional; environment variables named in the descriptions override the file.',
    ...(optionalDefaults(JSON.parse(JSON.stringify(ConfigSchema))) as Record<string, unknown>),
  };
}

export function configCommand(): Command {
  const cmd = new Command('config').description('show the effective configuration or its JSON Schema');
  examples(cmd, [['logistics-hub config show'], ['logistics-hub config schema > hub.schema.json']]);

  const show = new Command('show')
    .description('print the effective configuration (defaults < config file < environment < flags), passwords hidden')
    .option('--json', 'print JSON instead of YAML')
    .action(
      act(async (_opts: unknown, self: Command) => {
        const o = optionsOf<{ json?: boolean }>(self);
        const loaded = loadCliConfig(o);
        const shown = schemaOrder(redactConfig(loaded.config), ConfigSchema) as HubConfig;
        if (o.json) {
          process.stdout.write(json(shown) + '\n');
          return 0;
        }
        const src = [
          `# file: ${loaded.file ? `${loaded.file} (from ${loaded.fileFrom})` : 'none (defaults and environment only)'}`,
          `# environment: ${loaded.env.length ? loaded.env.join(', ') : 'none'}`,
          ...(loaded.flags.length ? [`# flags: ${loaded.flags.join(', ')}`] : []),
        ];
        process.stdout.write(src.join('\n') + '\n' + stringify(shown));
        return 0;
      }),
    );
  examples(show, [['logistics-hub config show'], ['logistics-hub --config prod.yaml config show --json', 'as JSON, from another file']]);

  const schema = new Command('schema')
    .description('print the JSON Schema of the configuration file (for editors and CI validation)')
    .action(
      act(async () => {
        process.stdout.write(json(configJsonSchema()) + '\n');
        return 0;
      }),
    );
  examples(schema, [['logistics-hub config schema > hub.schema.json', 'point your editor at it for completion in hub.yaml']]);

  return cmd.addCommand(show).addCommand(schema);
}
