/**
 * GET /v1/documents/{ref}: a document the hub keeps for partners (a carrier label as PDF or ZPL, a
 * manifest), by the reference events carry (`urn:hub:document:<ref>` in shipment.booked.v1's labels
 * and in what the hub sends a WMS). The bytes, with their media type; another tenant's document is
 * not found.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { ApiContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { principalOf } from '../principal.ts';
import { problems, route } from '../schemas.ts';

export const DOCUMENT_ROUTES = {
  getDocument: route({
    method: 'GET',
    url: '/v1/documents/:ref',
    config: { auth: { kind: 'scope', scope: 'warehouse:read' } },
    schema: {
      operationId: 'getDocument',
      summary: 'A carrier label or manifest the hub stored, by its reference',
      description: 'The reference is what follows `urn:hub:document:` in the URI events carry (URL-encoded).',
      tags: ['documents'],
      params: Type.Object({ ref: Type.String({ minLength: 1, maxLength: 512 }) }),
      response: {
        200: Type.Unknown({ description: 'the document (application/pdf, application/x-zpl...)' }),
        ...problems({ 404: 'no such document for this tenant' }),
      },
    },
  }),
} as const;

export async function documentRoutes(app: FastifyInstance, { ctx }: { ctx: ApiContext }): Promise<void> {
  app.route<{ Params: { ref: string } }>({
    ...DOCUMENT_ROUTES.getDocument,
    handler: async (request, reply) => {
      const ref = request.params.ref.replace(/^urn:hub:document:/, '');
      const r = await ctx.pool.query<{ media_type: string; content: Buffer; kind: string }>(
        `select media_type, content, kind from hub_documents where tenant_id = $1 and ref = $2`,
        [principalOf(request).tenantId, ref],
      );
      const doc = r.rows[0];
      if (!doc) throw notFound('document.not_found', `no document ${ref}`);
      reply.header('content-type', doc.media_type).header('content-disposition', `inline; filename="${ref.replace(/[^A-Za-z0-9._-]+/g, '_')}"`);
      return reply.send(doc.content);
    },
  });
}
