/**
 * The business methods of the simulated Odoo 18, registered on a database by `registerFlows`
 * (called by `OdooDatabase` at construction): sales (`action_confirm`, invoicing wizard),
 * stock (`button_validate` and its wizards, reservations, inventory adjustments, quantities),
 * purchase (`button_confirm`, receipts), accounting (`action_post`, payments) and chatter
 * (`message_post`). Behaviour and wording follow the transcripts recorded from a real server.
 */
import type { OdooDatabase } from './database.ts';
import { registerAccount } from './flows/account.ts';
import { registerMail } from './flows/mail.ts';
import { registerPurchase } from './flows/purchase.ts';
import { registerSale } from './flows/sale.ts';
import { registerStock } from './flows/stock.ts';

export { buttonValidate } from './flows/stock.ts';
export { refreshSaleOrder } from './flows/sale.ts';
export { refreshPurchaseOrder } from './flows/purchase.ts';

export function registerFlows(db: OdooDatabase): void {
  registerStock(db);
  registerSale(db);
  registerPurchase(db);
  registerAccount(db);
  registerMail(db);
}
