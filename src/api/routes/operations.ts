/** Liveness, readiness, Prometheus metrics and the OpenAPI document. */
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { notReady } from '../errors.ts';
import { ROUTES } from '../schemas.ts';

export async function operationRoutes(app: FastifyInstance, opts: { ctx: ApiContext; openapi: () => string }): Promise<void> {
  const { ctx } = opts;

  app.route({ ...ROUTES.healthz, handler: async () => ({ status: 'ok' as const, instanceId: ctx.instanceId }) });

  app.route({
    ...ROUTES.readyz,
    handler: async () => {
      const r = await ctx.readiness();
      if (!r.ready) {
        throw notReady(Object.entries(r.checks).filter(([, c]) => !c.ok).map(([name, c]) => ({ path: name, message: c.detail ?? 'failing' })));
      }
      return r;
    },
  });

  app.route({
    ...ROUTES.metrics,
    handler: async (_request, reply) => {
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  });

  app.route({
    ...ROUTES.openapi,
    handler: async (_request, reply) => {
      reply.type('application/json; charset=utf-8');
      return opts.openapi();
    },
  });
}
