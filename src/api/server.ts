/**
 * The HTTP API (Fastify). Cross-cutting behaviour lives here: correlation ids (request
 * header or generated, echoed in X-Correlation-Id, bound to the request's logger),
 * request logging without bodies, the HTTP latency metric, and one path for every error
 * (problem.ts) including 404/405, Fastify's own errors and malformed HTTP.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import pkg from '../../package.json' with { type: 'json' };
import { toHubError, sendProblem, rawProblemResponse } from './problem.ts';
import { methodNotAllowed, notFound, shuttingDown } from './errors.ts';
import { buildOpenApi, type CollectedRoute } from './openapi.ts';
import type { ApiContext } from './context.ts';
import { ingestRoutes } from './routes/ingest.ts';
import { queryRoutes } from './routes/queries.ts';
import { operationRoutes } from './routes/operations.ts';
import type { RouteSpec } from './schemas.ts';
import type { RouteAuth } from './principal.ts';
import { Authenticator, installAuth } from './auth.ts';
import { adminRoutes } from './routes/admin.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { subscriptionRoutes } from './routes/subscriptions.ts';
import { odooHintRoutes } from './routes/odoo-hints.ts';
import { documentRoutes } from './routes/documents.ts';
import { consoleRoutes } from './routes/console.ts';
import { SigningKeys } from '../security/jwt.ts';
import { logSecurityEvent } from '../security/security-log.ts';
import { disabledTracing, type Tracing } from '../platform/tracing.ts';
import { installTracing, withTracedIngest } from './tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** the request's correlation id (X-Correlation-Id, or the single event's correlationid) */
    correlationId: string;
  }
}

const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** routes polled by machines: logged at debug */
const QUIET_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/** A usable X-Correlation-Id from the client, or a new one. */
export function correlationIdOf(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v !== undefined && CORRELATION_ID.test(v) ? v : randomUUID();
}

export async function buildServer(api: ApiContext & { tracing?: Tracing }): Promise<FastifyInstance> {
  let closing = false;
  // events stored by a request keep its trace context (api/tracing.ts)
  const ctx = withTracedIngest(api);

  const reject = (request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply => {
    const hub = toHubError(err);
    if (hub.status >= 500) request.log.error({ err, errorCode: hub.code }, 'request failed');
    else request.log.info({ errorCode: hub.code, statusCode: hub.status }, 'request rejected');
    return sendProblem(request, reply, hub);
  };

  const app = Fastify({
    loggerInstance: ctx.log,
    // request lines are logged by the onResponse hook below, with the route and the outcome
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'correlationId' }),
    bodyLimit: ctx.config.ingress.bodyLimitBytes,
    routerOptions: { maxParamLength: 2048 },
    return503OnClosing: false, // answered as problem+json by the onRequest hook below
    requestIdHeader: false,
    trustProxy: ctx.config.security.trustProxy,
    genReqId: (req: IncomingMessage) => correlationIdOf(req.headers['x-correlation-id']),
    // unknown properties are errors, never silently dropped (a typo in a replay filter must not widen it)
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: (err, request, reply) => {
      request.correlationId = String(request.id);
      reply.header('X-Correlation-Id', request.correlationId);
      reject(request, reply, err);
    },
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (socket.writable) socket.write(rawProblemResponse(err, randomUUID()));
      socket.destroy(err);
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('correlationId', '');
  app.removeContentTypeParser('text/plain'); // JSON only: anything else is 415

  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    const auth = (r.config as { auth?: RouteAuth } | undefined)?.auth;
    if (r.schema && !auth && !r.url.startsWith('*')) throw new Error(`route ${r.url} declares no auth (config.auth)`);
    for (const method of methods) if (method !== 'HEAD' && r.schema) routes.push({ method, url: r.url, schema: r.schema as RouteSpec['schema'], auth });
  });
  let openapi: string | undefined;
  const openapiDocument = () =>
    (openapi ??= JSON.stringify(
      buildOpenApi(routes, {
        title: 'odoo-logistics-hub API',
        version: pkg.version,
        description:
          'Event ingestion (CloudEvents 1.0), event history, timelines, dead letters and replay. ' +
          'Every error is RFC 9457 application/problem+json with a stable `code`.',
      }),
    ));

  app.addHook('preClose', async () => {
    closing = true;
  });

  app.addHook('onRequest', async (request, reply) => {
    request.correlationId = String(request.id);
    reply.header('X-Correlation-Id', request.correlationId);
    if (closing) throw shuttingDown();
  });

  const signingKeys = new SigningKeys({
    pool: ctx.pool, keyring: ctx.keyring, clock: ctx.clock,
    rotationHours: ctx.config.security.signingKeyRotationHours, accessTokenTtlSeconds: ctx.config.security.accessTokenTtlSeconds,
  });
  const auth = new Authenticator({
    pool: ctx.pool, clock: ctx.clock, log: ctx.log, signingKeys,
    tokenCacheSeconds: ctx.config.security.tokenCacheSeconds, rateLimit: ctx.config.security.rateLimit,
    sessionIdleSeconds: ctx.config.console.sessionIdleSeconds,
    securityLog: (e) => logSecurityEvent(ctx.pool, e),
  });
  installTracing(app, { tracing: api.tracing ?? disabledTracing, metrics: ctx.metrics }); // a server span per request (refused ones too), active in the handler
  installAuth(app, auth); // after the correlation id, before everything else

  // answers of authenticated routes may carry tenant data: never cached by intermediaries, never sniffed
  app.addHook('onSend', async (request, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    const auth = (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth;
    if (auth && auth.kind !== 'public' && !reply.hasHeader('Cache-Control')) reply.header('Cache-Control', 'no-store');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    ctx.metrics.httpDuration.observe({ method: request.method, route, status: String(status) }, reply.elapsedTime / 1000);
    const fields = { method: request.method, url: request.url, route, statusCode: status, durationMs: Math.round(reply.elapsedTime * 100) / 100 };
    if (QUIET_ROUTES.has(route) && status < 400) request.log.debug(fields, 'request completed');
    else request.log.info(fields, 'request completed');
  });

  app.setErrorHandler((err, request, reply) => reject(request, reply, err));

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = METHODS.filter((m) => m !== request.method && app.findRoute({ method: m as 'GET', url: path }) !== null);
    if (allowed.length) {
      reply.header('Allow', allowed.join(', '));
      return reject(request, reply, methodNotAllowed(request.method, path, allowed));
    }
    return reject(request, reply, notFound('route.not_found', `there is no resource at ${path}`));
  });

  await app.register(ingestRoutes, { ctx });
  await app.register(queryRoutes, { ctx });
  await app.register(operationRoutes, { ctx, openapi: openapiDocument });
  await app.register(adminRoutes, { ctx, auth, signingKeys });
  await app.register(webhookRoutes, { ctx });
  await app.register(subscriptionRoutes, { ctx });
  await app.register(odooHintRoutes, { ctx });
  await app.register(documentRoutes, { ctx });
  await app.register(consoleRoutes, { ctx, auth });
  return app;
}
