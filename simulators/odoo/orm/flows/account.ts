/**
 * Accounting flows of the simulated Odoo 18: `account.move.action_post` (returns False; state
 * posted, name INV/YYYY/NNNNN, invoice date), `button_draft`, `button_cancel`, and the
 * `account.payment.register` wizard (`action_create_payments`: a payment, the invoice paid).
 */
import type { Context, OdooDatabase } from '../database.ts';
import type { Row } from '../domain.ts';
import { userError } from '../errors.ts';
import { ctxIds, ctxOf, idsWhere, num, ref, requireIds, row } from './common.ts';
import { refreshSaleOrder } from './sale.ts';

const SEQUENCE_CODES: Record<string, string> = {
  out_invoice: 'account.move.out_invoice',
  out_refund: 'account.move.out_refund',
  in_invoice: 'account.move.in_invoice',
  in_refund: 'account.move.in_refund',
};

/** Sale orders whose lines an invoice holds. */
function ordersOf(db: OdooDatabase, move: number): number[] {
  const lines = new Set<number>();
  for (const id of idsWhere(db, 'account.move.line', (l) => l['move_id'] === move)) {
    for (const sl of (Array.isArray(db.row('account.move.line', id)!['sale_line_ids']) ? db.row('account.move.line', id)!['sale_line_ids'] : []) as number[]) lines.add(sl);
  }
  const orders = new Set<number>();
  for (const l of lines) {
    const o = ref(db.row('sale.order.line', l)?.['order_id']);
    if (o !== undefined) orders.add(o);
  }
  return [...orders];
}

function refreshOrders(db: OdooDatabase, moves: number[]): void {
  const orders = new Set(moves.flatMap((m) => ordersOf(db, m)));
  for (const o of orders) refreshSaleOrder(db, o);
}

/** The next name of a journal sequence: the move type's `ir.sequence`, or a prefix of its own. */
function nextName(db: OdooDatabase, moveType: string): string {
  const code = SEQUENCE_CODES[moveType];
  const byCode = code ? db.nextByCode(code) : false;
  if (byCode) return byCode;
  const prefix = moveType === 'out_refund' ? 'RINV' : moveType.startsWith('in_') ? (moveType === 'in_refund' ? 'RBILL' : 'BILL') : 'MISC';
  const year = db.txNow().slice(0, 4);
  const used = idsWhere(db, 'account.move', (m) => typeof m['name'] === 'string' && (m['name'] as string).startsWith(`${prefix}/${year}/`)).length;
  return `${prefix}/${year}/${String(used + 1).padStart(5, '0')}`;
}

function actionPost(db: OdooDatabase, uid: number, ids: number[]): false {
  requireIds(db, uid, 'account.move', ids);
  for (const id of ids) {
    const m = row(db, 'account.move', id);
    if (m['state'] === 'posted') throw userError(`The entry ${String(m['name'])} (id ${id}) is already posted.`);
    if (m['state'] === 'cancel') throw userError('You cannot post a cancelled entry.');
  }
  const today = db.txNow().slice(0, 10);
  for (const id of ids) {
    const m = row(db, 'account.move', id);
    const type = String(m['move_type'] ?? 'entry');
    const isInvoice = type !== 'entry';
    if (isInvoice && !ref(m['partner_id'])) throw userError('The field \'Customer\' is required, please complete it to validate the Customer Invoice.');
    const vals: Row = { state: 'posted', posted_before: true, date: (typeof m['date'] === 'string' && m['date']) || today };
    if (!m['name'] || m['name'] === '/') vals['name'] = nextName(db, type);
    if (isInvoice && !m['invoice_date']) vals['invoice_date'] = today;
    if (isInvoice && !m['invoice_date_due']) vals['invoice_date_due'] = vals['invoice_date'] ?? m['invoice_date'];
    if (isInvoice && num(m['amount_residual']) === 0 && num(m['amount_total']) === 0) vals['payment_state'] = 'paid';
    db.setRaw('account.move', id, vals);
    for (const l of idsWhere(db, 'account.move.line', (x) => x['move_id'] === id)) {
      db.setRaw('account.move.line', l, { parent_state: 'posted', move_name: vals['name'] ?? m['name'] });
    }
  }
  refreshOrders(db, ids);
  return false;
}

/** Invoices the payment wizard pays: from its journal items, else from the context. */
function wizardInvoices(db: OdooDatabase, wizard: Row, ctx: Context): number[] {
  const lines = Array.isArray(wizard['line_ids']) ? (wizard['line_ids'] as number[]) : [];
  const fromLines = [...new Set(lines.map((l) => ref(db.row('account.move.line', l)?.['move_id'])).filter((x): x is number => x !== undefined))];
  if (fromLines.length) return fromLines;
  return ctx['active_model'] === 'account.move' || ctx['active_model'] === undefined ? ctxIds(ctx, 'active_ids') : [];
}

function createPayments(db: OdooDatabase, uid: number, ids: number[], ctx: Context): unknown {
  requireIds(db, uid, 'account.payment.register', ids);
  const wizard = row(db, 'account.payment.register', ids[0]!);
  const invoices = wizardInvoices(db, wizard, ctx);
  if (!invoices.length) throw userError("You can't register a payment because there is nothing left to pay on the selected journal items.");
  for (const inv of invoices) {
    const m = row(db, 'account.move', inv);
    if (m['state'] !== 'posted') throw userError('You can only register payment for posted journal entries.');
    if (num(m['amount_residual']) <= 0) throw userError("You can't register a payment because there is nothing left to pay on the selected journal items.");
  }
  const date = typeof wizard['payment_date'] === 'string' && wizard['payment_date'] ? (wizard['payment_date'] as string) : db.txNow().slice(0, 10);
  const journal = ref(wizard['journal_id']) ?? idsWhere(db, 'account.journal', (j) => j['type'] === 'bank')[0] ?? idsWhere(db, 'account.journal', (j) => j['type'] === 'cash')[0];
  if (journal === undefined) throw userError('Please define a payment method line on your payment.');
  const payments: number[] = [];
  for (const inv of invoices) {
    const m = row(db, 'account.move', inv);
    const residual = num(m['amount_residual']);
    const amount = wizard['amount'] !== undefined && num(wizard['amount']) > 0 && invoices.length === 1 ? Math.min(num(wizard['amount']), residual) : residual;
    const outbound = String(m['move_type']).startsWith('in_') ? m['move_type'] === 'in_invoice' : m['move_type'] === 'out_refund';
    const year = db.txNow().slice(0, 4);
    const count = db.ids('account.payment').length + 1;
    const pay = db.create('account.payment', {
      name: `PBNK1/${year}/${String(count).padStart(5, '0')}`, amount, date, partner_id: ref(m['partner_id']) ?? false,
      payment_type: outbound ? 'outbound' : 'inbound', partner_type: String(m['move_type']).startsWith('in_') ? 'supplier' : 'customer',
      memo: wizard['communication'] || m['name'] || false, journal_id: journal, currency_id: ref(m['currency_id']) ?? 1,
      state: 'paid', is_reconciled: true, is_matched: true, invoice_ids: [[6, 0, [inv]]],
    });
    payments.push(pay);
    const left = Math.round((residual - amount) * 100) / 100;
    db.setRaw('account.move', inv, { amount_residual: left, amount_residual_signed: left, payment_state: left <= 0 ? 'paid' : 'partial' });
  }
  refreshOrders(db, invoices);
  if (ctx['dont_redirect_to_payments']) return true;
  const action: Row = { name: 'Payments', type: 'ir.actions.act_window', res_model: 'account.payment', context: { create: false } };
  if (payments.length === 1) Object.assign(action, { view_mode: 'form', res_id: payments[0] });
  else Object.assign(action, { view_mode: 'list,form', domain: [['id', 'in', payments]] });
  return action;
}

export function registerAccount(db: OdooDatabase): void {
  db.registerMethod('account.move', 'action_post', (d, uid, ids) => actionPost(d, uid, ids));
  db.registerMethod('account.move', 'button_draft', (d, uid, ids) => {
    requireIds(d, uid, 'account.move', ids);
    for (const id of ids) d.setRaw('account.move', id, { state: 'draft' });
    refreshOrders(d, ids);
    return undefined;
  });
  db.registerMethod('account.move', 'button_cancel', (d, uid, ids) => {
    requireIds(d, uid, 'account.move', ids);
    for (const id of ids) {
      if (row(d, 'account.move', id)['state'] === 'posted') throw userError('Only draft journal entries can be cancelled.');
      d.setRaw('account.move', id, { state: 'cancel' });
    }
    refreshOrders(d, ids);
    return undefined;
  });
  db.registerMethod('account.payment.register', 'action_create_payments', (d, uid, ids, _a, kw) => createPayments(d, uid, ids, ctxOf(kw)));
  db.onCreate('account.payment.register', (d, ids, vals, ctx) => {
    if (vals['line_ids'] !== undefined) return;
    const invoices = ctx['active_model'] === undefined || ctx['active_model'] === 'account.move' ? ctxIds(ctx, 'active_ids') : [];
    const lines = invoices.flatMap((inv) => idsWhere(d, 'account.move.line', (l) => l['move_id'] === inv));
    const first = invoices.map((inv) => d.row('account.move', inv)).find(Boolean);
    for (const id of ids) {
      const w = row(d, 'account.payment.register', id);
      const vals2: Row = { line_ids: lines };
      if (first) {
        if (w['partner_id'] === undefined || w['partner_id'] === false) vals2['partner_id'] = ref(first['partner_id']) ?? false;
        if (!w['communication']) vals2['communication'] = first['name'] || false;
        if (!num(w['amount'])) vals2['amount'] = invoices.reduce((s, inv) => s + num(d.row('account.move', inv)?.['amount_residual']), 0);
        if (!w['payment_type']) vals2['payment_type'] = first['move_type'] === 'in_invoice' || first['move_type'] === 'out_refund' ? 'outbound' : 'inbound';
      }
      if (!w['payment_date']) vals2['payment_date'] = d.txNow().slice(0, 10);
      d.setRaw('account.payment.register', id, vals2);
    }
  });
}
