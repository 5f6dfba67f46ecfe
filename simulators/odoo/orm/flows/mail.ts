/**
 * Chatter of the simulated Odoo 18: `message_post` on the documents a connector writes to
 * (returns the new `mail.message` id) and their `message_ids`.
 */
import type { OdooDatabase } from '../database.ts';
import { idsWhere, requireIds } from './common.ts';
import { valueError } from '../errors.ts';

/** Models with a chatter among those the simulator knows. */
export const THREAD_MODELS = ['sale.order', 'purchase.order', 'stock.picking', 'account.move', 'account.payment', 'res.partner', 'product.product'];

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;');
}

export function registerMail(db: OdooDatabase): void {
  for (const model of THREAD_MODELS) {
    if (!db.hasModel(model)) continue;
    db.registerMethod(model, 'message_post', (d, uid, ids, args, kw) => {
      requireIds(d, uid, model, ids);
      if (ids.length !== 1) throw valueError(`Expected singleton: ${model}(${ids.join(', ')}${ids.length === 1 ? ',' : ''})`);
      const body = kw['body'] ?? args[0] ?? '';
      const author = d.row('res.users', uid)?.['partner_id'] ?? false;
      const subtype = kw['subtype_xmlid'] === 'mail.mt_comment' ? 1 : kw['subtype_xmlid'] ? 2 : false;
      const partners = Array.isArray(kw['partner_ids']) ? (kw['partner_ids'] as unknown[]).filter((x): x is number => typeof x === 'number') : [];
      return d.create('mail.message', {
        model, res_id: ids[0], body: typeof body === 'string' ? escapeHtml(body) : '', subject: kw['subject'] ?? false,
        message_type: typeof kw['message_type'] === 'string' ? kw['message_type'] : 'notification', subtype_id: subtype,
        author_id: author, partner_ids: [[6, 0, partners]], date: d.txNow(), record_name: d.displayName(model, ids[0]!),
      });
    });
    db.registerComputed(model, 'message_ids', (d, id) => idsWhere(d, 'mail.message', (m) => m['model'] === model && m['res_id'] === id).reverse());
  }
}
