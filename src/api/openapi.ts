/**
 * The OpenAPI 3.1 document, generated from the schemas of the routes as Fastify registered
 * them (collected by an onRoute hook): nothing here is written by hand except the
 * document's header. Schemas with a `title` become components referenced by $ref.
 */
import type { RouteSpec } from './schemas.ts';
import type { RouteAuth } from './principal.ts';

export interface CollectedRoute {
  method: string;
  url: string;
  schema: RouteSpec['schema'];
  auth?: RouteAuth | undefined;
}

/** The OpenAPI security requirement of a route's auth. */
function security(auth: RouteAuth | undefined): Json[] | undefined {
  if (!auth) return undefined;
  if (auth.kind === 'public' || auth.kind === 'signature') return [];
  const scopes = auth.kind === 'scope' ? [auth.scope] : [];
  return [{ bearerToken: [] }, { oauth2: scopes }];
}

function authNote(auth: RouteAuth | undefined): string {
  if (!auth) return '';
  switch (auth.kind) {
    case 'public':
      return '';
    case 'signature':
      return '\n\nAuthenticated by the partner\'s webhook signature, not by a bearer token.';
    case 'scope':
      return `\n\nRequires the scope \`${auth.scope}\`.`;
    case 'domain':
      return `\n\nRequires \`<domain>:${auth.access}\` for the domain of each event type involved (orders, warehouse, tracking, fleet, billing, procurement, exceptions, admin); personal data is masked without \`pii:read\`.`;
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Plain JSON (TypeBox's symbol keys dropped), titled sub-schemas moved to components. */
function extract(schema: unknown, components: Record<string, Json>): Json {
  const plain = JSON.parse(JSON.stringify(schema ?? {})) as Json;
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    // under `properties` the keys are names, not keywords
    for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' || k === 'patternProperties' ? mapValues(v, walk) : walk(v);
    if (typeof node.title === 'string') {
      components[node.title] ??= out;
      return { $ref: `#/components/schemas/${node.title}` };
    }
    return out;
  };
  return walk(plain);
}

function mapValues(v: Json, f: (x: Json) => Json): Json {
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)]));
}

function parameters(schema: unknown, location: 'path' | 'query' | 'header', components: Record<string, Json>): Json[] {
  if (!isObject(schema) || !isObject(schema.properties)) return [];
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(schema.properties).map(([name, s]) => {
    const { description, ...rest } = isObject(s) ? s : ({} as JsonObject);
    return {
      name,
      in: location,
      required: location === 'path' || required.has(name),
      ...(typeof description === 'string' ? { description } : {}),
      schema: extract(rest, components),
    };
  });
}

const CORRELATION_HEADER = { description: 'correlation id of the request', schema: { type: 'string' } };
const RETRY_AFTER_HEADER = { description: 'seconds to wait before retrying', schema: { type: 'integer' } };

function responses(spec: Record<string, unknown>, components: Record<string, Json>): JsonObject {
  const out: JsonObject = {};
  for (const [status, r] of Object.entries(spec)) {
    const code = status.replace(/xx$/, 'XX');
    const headers: JsonObject = { 'X-Correlation-Id': CORRELATION_HEADER };
    if (code === '429' || code === '503') headers['Retry-After'] = RETRY_AFTER_HEADER;
    if (isObject(r) && isObject(r.content)) {
      const content = mapValues(r.content, (m) => ({ schema: extract(isObject(m) ? m.schema : {}, components) }));
      out[code] = { description: typeof r.description === 'string' ? r.description : code, headers, content };
    } else {
      const description = isObject(r) && typeof r.description === 'string' ? r.description : 'success';
      out[code] = { description, headers, content: { 'application/json': { schema: extract(r, components) } } };
    }
  }
  return out;
}

function requestBody(body: unknown, components: Record<string, Json>): Json | undefined {
  if (body === undefined) return undefined;
  const content = isObject(body) && isObject(body.content) ? body.content : { 'application/json': { schema: body as Json } };
  return { required: true, content: mapValues(content, (m) => ({ schema: extract(isObject(m) ? m.schema : {}, components) })) };
}

export function buildOpenApi(routes: CollectedRoute[], info: { title: string; version: string; description: string }): JsonObject {
  const components: Record<string, Json> = {};
  const paths: Record<string, JsonObject> = {};
  const tags = new Set<string>();
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const s = r.schema;
    for (const t of s.tags) tags.add(t);
    const body = requestBody(s.body, components);
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      operationId: s.operationId,
      summary: s.summary,
      ...(s.description || authNote(r.auth) ? { description: (s.description ?? s.summary) + authNote(r.auth) } : {}),
      tags: s.tags,
      ...(security(r.auth) ? { security: security(r.auth)! } : {}),
      parameters: [...parameters(s.params, 'path', components), ...parameters(s.querystring, 'query', components), ...parameters(s.headers, 'header', components)],
      ...(body ? { requestBody: body } : {}),
      responses: responses(s.response, components),
    };
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerToken: { type: 'http', scheme: 'bearer', description: 'an API client token (olh_...) or an access token from /oauth/token' },
        oauth2: { type: 'oauth2', flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: {} } } },
      },
    },
  };
}
