/** Read endpoints: one event with its history, one key's timeline, dead letters and replays. */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { getDeadLetter, listDeadLetters, replayProgress, requestReplay, type DeadLetterFilter } from '../../pipeline/replay.ts';
import type { ApiContext } from '../context.ts';
import { ValidationError } from '../../domain/errors.ts';
import { findXrefs } from '../../pipeline/xref.ts';
import { decodeCursor, encodeCursor, isPositiveSafeInteger } from '../cursor.ts';
import { notFound } from '../errors.ts';
import { deadLetterView, eventView, links, timelineView, typesOfKey, type Viewer } from '../read-models.ts';
import { canSeePii, principalOf, requireScope } from '../principal.ts';
import { domainOfEntity, domainOfEventType, type Scope } from '../../domain/scopes.ts';
import type { FastifyRequest } from 'fastify';
import { ROUTES, type DeadLetterQuery, type ReplayAccepted, type ReplayRequest } from '../schemas.ts';

function filterOf(q: Omit<ReplayRequest, 'ids'> & { ids?: number[] }): DeadLetterFilter {
  return {
    ...(q.ids ? { ids: q.ids } : {}),
    ...(q.type ? { type: q.type } : {}),
    ...(q.key ? { key: q.key } : {}),
    ...(q.source ? { source: q.source } : {}),
    ...(q.errorCode ? { errorCode: q.errorCode } : {}),
    ...(q.errorClass ? { errorClass: q.errorClass } : {}),
    ...(q.from ? { from: new Date(q.from) } : {}),
    ...(q.to ? { to: new Date(q.to) } : {}),
  };
}

function queryString(q: Record<string, unknown>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  return p.toString();
}

function viewerOf(request: FastifyRequest): Viewer {
  const p = principalOf(request);
  return { tenantId: p.tenantId, pii: canSeePii(p) };
}

const readScopeOfType = (type: string): Scope => `${domainOfEventType(type) ?? 'admin'}:read`;

export async function queryRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  app.route<{ Params: { id: string }; Querystring: { source?: string } }>({
    ...ROUTES.getEvent,
    handler: async (request) => {
      const view = await eventView(ctx.pool, viewerOf(request), request.params.id, request.query.source);
      requireScope(principalOf(request), readScopeOfType(view.event.type));
      return view;
    },
  });

  app.route<{ Querystring: { system?: string; externalId?: string; canonicalId?: string; entity?: string } }>({
    ...ROUTES.findXrefs,
    handler: async (request) => {
      const { system, externalId, canonicalId, entity } = request.query;
      const byExternal = system !== undefined && externalId !== undefined;
      if (byExternal === (canonicalId !== undefined) || (!byExternal && (system !== undefined || externalId !== undefined))) {
        throw new ValidationError('xref.bad_query', 'give either system and externalId (resolve a system id) or canonicalId (list its system ids)', [
          { path: '/querystring', message: 'system + externalId, or canonicalId' },
        ]);
      }
      const p = principalOf(request);
      if (entity) requireScope(p, `${domainOfEntity(entity)}:read`);
      const tenantId = p.tenantId;
      const found = await findXrefs(ctx.pool, byExternal ? { tenantId, system, externalId, ...(entity ? { entity } : {}) } : { tenantId, canonicalId: canonicalId!, ...(entity ? { entity } : {}) });
      // without an entity, only the entities the client may read
      const rows = found.filter((r) => p.scopes.has(`${domainOfEntity(r.entity)}:read`));
      return { items: rows.map((r) => ({ entity: r.entity, canonicalId: r.canonicalId, system: r.system, externalId: r.externalId, registeredAt: r.createdAt.toISOString() })) };
    },
  });

  app.route<{ Params: { key: string }; Querystring: { limit: number; cursor?: string } }>({
    ...ROUTES.getTimeline,
    handler: async (request) => {
      const viewer = viewerOf(request);
      const known = await typesOfKey(ctx.pool, viewer.tenantId, request.params.key);
      for (const s of new Set([...known.types.map(readScopeOfType), ...known.lifecycles.map((k): Scope => `${domainOfEntity(k)}:read`)])) requireScope(principalOf(request), s);
      return timelineView(ctx.pool, viewer, request.params.key, request.query.limit, request.query.cursor);
    },
  });

  app.route<{ Querystring: DeadLetterQuery }>({
    ...ROUTES.listDeadLetters,
    handler: async (request) => {
      const q = request.query;
      const afterId = q.cursor === undefined ? undefined : decodeCursor(q.cursor, (v) => (isPositiveSafeInteger(v.a) ? v.a : undefined));
      const viewer = viewerOf(request);
      const rows = await listDeadLetters(ctx.pool, {
        ...filterOf(q),
        tenantId: viewer.tenantId,
        ...(q.status ? { status: q.status } : {}),
        limit: q.limit + 1,
        ...(afterId ? { afterId } : {}),
        withPayload: q.include === 'payload',
      });
      const page = rows.slice(0, q.limit);
      const nextCursor = rows.length > q.limit ? encodeCursor({ a: page.at(-1)!.id }) : null;
      const base = { ...q, cursor: undefined };
      return {
        items: page.map((d) => deadLetterView(d, q.include === 'payload', viewer)),
        nextCursor,
        links: {
          self: `/v1/dead-letters?${queryString({ ...base, cursor: q.cursor })}`,
          ...(nextCursor ? { next: `/v1/dead-letters?${queryString({ ...base, cursor: nextCursor })}` } : {}),
        },
      };
    },
  });

  app.route<{ Params: { id: number } }>({
    ...ROUTES.getDeadLetter,
    handler: async (request) => {
      const viewer = viewerOf(request);
      const d = await getDeadLetter(ctx.pool, request.params.id, viewer.tenantId);
      if (!d) throw notFound('dead_letter.not_found', `no dead letter ${request.params.id}`);
      return deadLetterView(d, true, viewer);
    },
  });

  app.route<{ Body: ReplayRequest }>({
    ...ROUTES.replayDeadLetters,
    handler: async (request, reply) => {
      const p = principalOf(request);
      const { replayId, total } = await requestReplay(ctx.pool, { ...filterOf(request.body), tenantId: p.tenantId }, `client:${p.clientId}`);
      request.log.info({ replayId, total }, 'replay requested');
      reply.code(202);
      return { replayId, total, links: { progress: links.replay(replayId) } } satisfies Static<typeof ReplayAccepted>;
    },
  });

  app.route<{ Params: { id: number } }>({
    ...ROUTES.getReplay,
    handler: async (request) => {
      const p = await replayProgress(ctx.pool, request.params.id, principalOf(request).tenantId);
      if (!p) throw notFound('replay.not_found', `no replay ${request.params.id}`);
      return { ...p, links: { self: links.replay(p.replayId) } };
    },
  });
}
