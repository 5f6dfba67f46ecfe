/**
 * Every route of the API in one table: the core routes, administration, partner webhooks
 * and outbound subscriptions. The OpenAPI test checks the served document against it, and
 * the authorization matrix is generated from it, so no endpoint escapes either.
 */
import { ROUTES } from './schemas.ts';
import { ADMIN_ROUTES } from './routes/admin.ts';
import { WEBHOOK_ROUTES } from './routes/webhooks.ts';
import { SUBSCRIPTION_ROUTES } from './routes/subscriptions.ts';
import { ODOO_HINT_ROUTES } from './routes/odoo-hints.ts';
import { DOCUMENT_ROUTES } from './routes/documents.ts';
import { CONSOLE_ROUTES } from './routes/console.ts';

export const ALL_ROUTES = { ...ROUTES, ...ADMIN_ROUTES, ...WEBHOOK_ROUTES, ...SUBSCRIPTION_ROUTES, ...ODOO_HINT_ROUTES, ...DOCUMENT_ROUTES, ...CONSOLE_ROUTES } as const;
export type RouteName = keyof typeof ALL_ROUTES;
