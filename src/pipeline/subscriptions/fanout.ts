/**
 * Fan-out of handled events to outbound subscriptions: a pipeline handler that, in the
 * transaction that marks the event handled, records one delivery per subscription of the
 * event's tenant whose filter matches its type. The deliverer (deliverer.ts) sends them
 * afterwards, so an event is offered to every subscriber exactly when it is handled, and
 * a rolled-back batch offers nothing.
 *
 * - An enabled subscription gets a pending delivery, due at once; a disabled one gets a
 *   missed delivery, sent if the subscription is enabled again with replay.
 * - A subscription's owner must still be a live client holding the read scope of the
 *   event's domain: scopes taken away or a revoked client stop deliveries.
 * - (subscription, event) is unique, so an event handled again (a replay from the dead
 *   letters) is not delivered twice. The message id (the webhook-id header) is derived
 *   from both, stable across retries.
 */
import { domainOfEventType } from '../../domain/index.ts';
import type { Handler } from '../types.ts';

export const SUBSCRIPTIONS_HANDLER = 'subscriptions';

export const subscriptionFanout: Handler = {
  name: SUBSCRIPTIONS_HANDLER,
  matches: () => true,
  async handle(e, ctx) {
    const entity = e.type.split('.')[0]!;
    const readScope = `${domainOfEventType(e.type) ?? 'admin'}:read`;
    await ctx.tx.query(
      `insert into hub_deliveries (tenant_id, subscription_id, event_seq, msg_id, status, next_attempt_at)
       select s.tenant_id, s.id, $2::bigint, 'msg_' || left(encode(sha256(convert_to(s.id || '/' || $2::bigint::text, 'UTF8')), 'hex'), 32),
              case when s.status = 'enabled' then 'pending' else 'missed' end, $6
         from hub_subscriptions s
         left join hub_clients c on c.id = s.owner_client_id
        where s.tenant_id = $1
          and s.event_types && array[$3, $4, '*']::text[]
          and (s.owner_client_id is null or (c.revoked_at is null and $5 = any (c.scopes)))
       on conflict (subscription_id, event_seq) do nothing`,
      [e.tenantId, e.seq, e.type, `${entity}.*`, readScope, ctx.clock.now()],
    );
  },
};
