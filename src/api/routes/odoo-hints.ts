/**
 * POST /v1/connectors/odoo/{tenant}/hints?token=...: the target of Odoo's "send webhook
 * notification" automations. Odoo cannot sign them, so the URL carries a per-tenant token
 * (a stored secret, compared in constant time). The payload is only a hint: the connector
 * reads the named records from Odoo itself, never trusting the values sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { PermanentError, UnauthenticatedError } from '../../domain/errors.ts';
import { activeSecretValues } from '../../security/secrets.ts';
import { logSecurityEvent } from '../../security/security-log.ts';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { problems, route } from '../schemas.ts';

export const ODOO_HINT_ROUTES = {
  odooHint: route({
    method: 'POST',
    url: '/v1/connectors/odoo/:tenant/hints',
    config: { auth: { kind: 'signature' } },
    schema: {
      operationId: 'odooHint',
      summary: "An Odoo webhook automation's payload: read those records now",
      description:
        'Authenticated by the per-tenant token in the query (connectors.odoo.<tenant>.hintTokenSecret). The body is Odoo\'s payload ({_model, _id, ...}); only the model and id are used: the records are read from Odoo.',
      tags: ['connectors'],
      params: Type.Object({ tenant: Type.String({ minLength: 1, maxLength: 63 }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 512 })) }),
      body: Type.Unknown({ description: "Odoo's webhook payload" }),
      response: {
        202: Type.Object({ status: Type.Literal('accepted'), model: Type.String(), id: Type.Integer() }, { title: 'HintAccepted' }),
        ...problems({ 400: 'not an Odoo webhook payload', 401: 'missing or wrong token', 404: 'no Odoo connector for this tenant', 503: 'the connector of this tenant is not running' }),
      },
    },
  }),
} as const;

const digest = (s: string) => createHash('sha256').update(s).digest();

export async function odooHintRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  app.route<{ Params: { tenant: string }; Querystring: { token?: string }; Body: unknown }>({
    ...ODOO_HINT_ROUTES.odooHint,
    handler: async (request, reply) => {
      const { tenant } = request.params;
      const conf = ctx.config.connectors.odoo[tenant];
      if (!conf?.hintTokenSecret) throw notFound('connector.not_configured', `tenant ${tenant} has no Odoo connector accepting hints`);
      const tokens = await activeSecretValues(ctx.pool, ctx.keyring, tenant, conf.hintTokenSecret);
      const given = request.query.token ?? '';
      if (!given || !tokens.some((t) => timingSafeEqual(digest(t), digest(given)))) {
        await logSecurityEvent(ctx.pool, { kind: 'connector', code: 'connector.bad_token', tenantId: tenant, remoteIp: request.ip, detail: `Odoo hint for ${tenant} with a ${given ? 'wrong' : 'missing'} token`, correlationId: request.correlationId }).catch(() => undefined);
        throw new UnauthenticatedError('connector.bad_token', 'the hint URL needs the tenant\'s token (?token=...)');
      }
      const b = (request.body ?? {}) as { _model?: unknown; _id?: unknown };
      if (typeof b._model !== 'string' || !Number.isSafeInteger(b._id)) {
        throw new PermanentError({ code: 'connector.bad_hint', message: 'an Odoo webhook payload has _model and _id', status: 400, issues: [{ path: '/body', message: 'needs _model (string) and _id (integer)' }] });
      }
      const accepted = await ctx.odooHint?.(tenant, b);
      if (!accepted) throw new PermanentError({ code: 'connector.not_running', message: `the Odoo connector of tenant ${tenant} is not running (see the hub's log)`, status: 503 });
      reply.code(202);
      return { status: 'accepted' as const, model: b._model, id: b._id as number };
    },
  });
}
