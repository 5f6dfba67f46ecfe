/**
 * Demo data of the simulated database: the records the recorded transcripts reference
 * (partners 9 "Wood Corner", 10 "Deco Addict", 15 "Azure Interior", 44 without phone; products
 * 13, 18, 20; quant 4 of product 20 in WH/Stock; warehouse WH; orders S00001...; pickings
 * WH/OUT/..., WH/IN/... all written in one demo-data transaction; vendor price 13.0; carriers).
 * Deterministic: every timestamp derives from the database clock at creation.
 */
import type { OdooDatabase } from './database.ts';
import { formatMicros } from './format.ts';
import { storableProductValues } from './versions.ts';

/** The admin API key the recorded server had. */
export const ADMIN_API_KEY = 'fb2aee6b08b71cf50e662def8e8490be5cb27fa3';

type Vals = Record<string, unknown>;

export function seedDemoData(db: OdooDatabase): void {
  const nowMs = db.now().getTime();
  // The demo data was loaded about 14 minutes before the recording; microseconds as PostgreSQL keeps them.
  const loaded = formatMicros((Math.floor(nowMs / 1000) - 14 * 60) * 1_000_000 + 888_404);
  const ins = (model: string, id: number, vals: Vals): void => {
    db.insertRaw(model, { id, create_date: loaded, write_date: loaded, create_uid: 1, write_uid: 1, ...vals });
  };
  const at = loaded.slice(0, 19);

  db.addUser({ id: 2, login: 'admin', password: 'admin', apiKeys: [ADMIN_API_KEY] });

  ins('res.currency', 1, { name: 'USD', symbol: '$', active: true, rounding: 0.01 });
  ins('res.currency', 2, { name: 'EUR', symbol: '€', active: false, rounding: 0.01 });

  const partners: [number, Vals][] = [
    [1, { name: 'YourCompany', is_company: true, email: 'info@yourcompany.com', phone: '+1 555-555-5556' }],
    [2, { name: 'OdooBot', email: 'odoobot@example.com', active: false }],
    [3, { name: 'Mitchell Admin', email: 'admin@yourcompany.example.com', phone: '+1 555-555-5555' }],
    [9, { name: 'Wood Corner', is_company: true, street: '1839 Arbor Way', zip: '95380', country_code: 'US', email: 'wood.corner26@example.com', phone: '(623)-853-7197', city: 'Turlock', supplier_rank: 1 }],
    [10, { name: 'Deco Addict', is_company: true, street: '77 Santa Barbara Rd', zip: '94523', country_code: 'US', email: 'deco_addict@example.com', phone: '(603)-996-3829', city: 'Pleasant Hill', property_payment_term_id: 4, customer_rank: 1 }],
    [11, { name: 'Gemini Furniture', is_company: true, street: '317 Fairchild Dr', zip: '94535', country_code: 'US', email: 'gemini_furniture@fake.geminifurniture.com', phone: '(941)-284-4875', city: 'Fairfield', customer_rank: 1 }],
    [12, { name: 'Lumber Inc', is_company: true, street: '1337 N San Joaquin St', zip: '95202', country_code: 'US', email: 'lumber-inv92@example.com', phone: '(828)-316-0593', city: 'Stockton', supplier_rank: 1 }],
    [14, { name: 'Ready Mat', is_company: true, street: '7500 W Linne Road', zip: '95304', country_code: 'US', email: 'ready.mat28@example.com', phone: '(803)-873-6126', city: 'Tracy', customer_rank: 1 }],
    [15, { name: 'Azure Interior', is_company: true, street: '4557 De Silva St', zip: '94538', country_code: 'US', email: 'azure.Interior24@example.com', phone: '(870)-931-0505', city: 'Fremont', customer_rank: 1 }],
    [44, { name: 'Logi Test Customer 1795497240', email: 'logi.test@example.com', customer_rank: 1 }],
  ];
  for (const [id, v] of partners) {
    const name = String(v['name']);
    ins('res.partner', id, {
      active: true, type: 'contact', company_type: v['is_company'] ? 'company' : 'person', is_company: false,
      complete_name: name, company_id: false, autopost_bills: 'ask', lang: 'en_US', ...v,
    });
  }
  db.setNextId('res.partner', 74);

  ins('res.company', 1, { name: 'YourCompany', partner_id: 1, currency_id: 1, sequence: 10, stock_move_sms_validation: true, has_received_warning_stock_sms: false });
  ins('res.users', 1, { name: 'OdooBot', login: '__system__', partner_id: 2, company_id: 1, active: false, lang: 'en_US', tz: 'Europe/Brussels' });
  ins('res.users', 2, { name: 'Mitchell Admin', login: 'admin', partner_id: 3, company_id: 1, active: true, lang: 'en_US', tz: 'Europe/Brussels' });

  ins('uom.uom', 1, { name: 'Units', factor: 1, rounding: 0.01, uom_type: 'reference', active: true });
  ins('product.category', 1, { name: 'All', complete_name: 'All' });
  ins('account.payment.term', 1, { name: 'Immediate Payment', active: true });
  ins('account.payment.term', 4, { name: '30 Days', active: true });
  ins('account.journal', 1, { name: 'Customer Invoices', code: 'INV', type: 'sale', company_id: 1 });
  ins('account.journal', 2, { name: 'Vendor Bills', code: 'BILL', type: 'purchase', company_id: 1 });
  ins('account.journal', 6, { name: 'Bank', code: 'BNK1', type: 'bank', company_id: 1 });

  // Products: [product id, template id, code, name, list price, cost].
  const products: [number, number, string, string, number, number][] = [
    [13, 9, 'FURN_0097', 'Customizable Desk (Steel, Black)', 750, 500],
    [18, 14, 'E-COM08', 'Storage Box', 15.8, 14],
    [20, 16, 'E-COM10', 'Pedal Bin', 47, 10],
    [27, 23, 'FURN_7800', 'Desk Combination', 450, 300],
    [51, 45, 'Delivery_007', 'Standard delivery', 5, 0],
    [52, 46, 'Delivery_008', 'Free delivery charges', 0, 0],
  ];
  for (const [pid, tid, code, name, price, cost] of products) {
    const service = code.startsWith('Delivery');
    const common = { name, default_code: code, ...storableProductValues(db.version, !service), list_price: price, uom_id: 1, uom_po_id: 1, active: true, sale_ok: true, purchase_ok: true };
    ins('product.template', tid, { ...common, standard_price: cost, company_id: false });
    ins('product.product', pid, {
      ...common, product_tmpl_id: tid, categ_id: 1, standard_price: cost, lst_price: price,
      tracking: 'none', invoice_policy: service ? 'order' : 'delivery', sale_line_warn: 'no-message', purchase_line_warn: 'no-message', service_tracking: 'no',
    });
  }
  ins('product.supplierinfo', 1, { partner_id: 9, product_tmpl_id: 14, product_id: false, price: 13.0, min_qty: 0, delay: 3, sequence: 1, currency_id: 1 });
  ins('product.supplierinfo', 2, { partner_id: 12, product_tmpl_id: 9, product_id: false, price: 480.0, min_qty: 0, delay: 5, sequence: 1, currency_id: 1 });

  const locations: [number, string, number | false, string, string][] = [
    [1, 'Physical Locations', false, 'view', 'Physical Locations'],
    [2, 'Partners', false, 'view', 'Partners'],
    [3, 'Virtual Locations', false, 'view', 'Virtual Locations'],
    [4, 'Vendors', 2, 'supplier', 'Partners/Vendors'],
    [5, 'Customers', 2, 'customer', 'Partners/Customers'],
    [7, 'WH', 1, 'view', 'WH'],
    [8, 'Stock', 7, 'internal', 'WH/Stock'],
    [14, 'Inventory adjustment', 3, 'inventory', 'Virtual Locations/Inventory adjustment'],
  ];
  for (const [id, name, parent, usage, complete] of locations) {
    ins('stock.location', id, { name, location_id: parent, usage, complete_name: complete, active: true, company_id: usage === 'internal' || id === 7 ? 1 : false, warehouse_id: id === 7 || id === 8 ? 1 : false });
  }

  const sequences: [number, string, string, string, number, number][] = [
    [1, 'Sales Order', 'sale.order', 'S', 5, 21],
    [2, 'Purchase Order', 'purchase.order', 'P', 5, 4],
    [3, 'WH Receipts', 'stock.picking.in', 'WH/IN/', 5, 7],
    [4, 'WH Delivery Orders', 'stock.picking.out', 'WH/OUT/', 5, 15],
    [5, 'Customer Invoices', 'account.move.out_invoice', 'INV/%(year)s/', 5, 1],
  ];
  for (const [id, name, code, prefix, padding, next] of sequences) {
    ins('ir.sequence', id, { name, code, prefix, padding, number_next: next, number_increment: 1, company_id: 1, active: true });
  }
  db.registerComputed('ir.sequence', 'number_next_actual', (d, id) => d.row('ir.sequence', id)?.['number_next'] ?? 1);

  ins('stock.picking.type', 1, { name: 'Receipts', code: 'incoming', sequence_code: 'IN', sequence_id: 3, warehouse_id: 1, default_location_src_id: 4, default_location_dest_id: 8, company_id: 1, sequence: 1, active: true });
  ins('stock.picking.type', 2, { name: 'Delivery Orders', code: 'outgoing', sequence_code: 'OUT', sequence_id: 4, warehouse_id: 1, default_location_src_id: 8, default_location_dest_id: 5, company_id: 1, sequence: 5, active: true });
  ins('stock.warehouse', 1, {
    name: 'YourCompany', code: 'WH', company_id: 1, partner_id: 1, lot_stock_id: 8, view_location_id: 7,
    in_type_id: 1, out_type_id: 2, delivery_steps: 'ship_only', reception_steps: 'one_step', sequence: 10, active: true,
  });

  ins('delivery.carrier', 1, { name: 'Standard delivery', delivery_type: 'fixed', invoice_policy: 'estimated', product_id: 51, fixed_price: 5.0, active: true, sequence: 1, company_id: false });
  ins('delivery.carrier', 2, { name: 'Free delivery charges', delivery_type: 'fixed', invoice_policy: 'estimated', product_id: 52, fixed_price: 0.0, free_over: true, amount: 1000.0, active: true, sequence: 2, company_id: false });

  ins('stock.quant', 1, { product_id: 13, location_id: 8, quantity: 60.0, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false, in_date: at, company_id: 1 });
  ins('stock.quant', 2, { product_id: 18, location_id: 8, quantity: 25.0, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false, in_date: at, company_id: 1 });
  ins('stock.quant', 3, { product_id: 27, location_id: 8, quantity: 12.0, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false, in_date: at, company_id: 1 });
  ins('stock.quant', 4, { product_id: 20, location_id: 8, quantity: 30.0, reserved_quantity: 0, inventory_quantity: 0, inventory_quantity_set: false, in_date: at, company_id: 1 });

  // Sales orders S00001..S00020: a quotation every fourth, the others confirmed.
  const customers = [10, 15, 11, 14];
  const lineProducts: [number, number][] = [[13, 750], [27, 450], [20, 47], [18, 15.8]];
  let lineId = 1;
  for (let i = 1; i <= 20; i++) {
    // The two latest confirmed orders are customer 44's, as on the recorded server.
    const partner = i === 18 || i === 19 ? 44 : customers[(i - 1) % customers.length]!;
    const [pid, price] = lineProducts[(i - 1) % lineProducts.length]!;
    const qty = 1 + (i % 3);
    const confirmed = i % 4 !== 0;
    ins('sale.order', i, {
      name: `S${String(i).padStart(5, '0')}`, partner_id: partner, partner_invoice_id: partner, partner_shipping_id: partner,
      state: confirmed ? 'sale' : 'draft', date_order: formatMicros((Math.floor(nowMs / 1000) - (40 - i) * 3600) * 1_000_000),
      company_id: 1, currency_id: 1, picking_policy: 'direct', warehouse_id: 1, user_id: 2,
      invoice_status: confirmed ? 'to invoice' : 'no', delivery_status: confirmed ? 'pending' : false,
      amount_untaxed: qty * price, amount_total: qty * price, amount_tax: 0, client_order_ref: false,
      payment_term_id: partner === 10 ? 4 : false,
    });
    ins('sale.order.line', lineId, {
      order_id: i, product_id: pid, name: db.displayName('product.product', pid), product_uom_qty: qty, product_uom: 1,
      price_unit: price, price_subtotal: qty * price, price_total: qty * price, customer_lead: 0, sequence: 10,
      qty_delivered: 0, qty_invoiced: 0, company_id: 1, currency_id: 1, order_partner_id: partner,
    });
    lineId++;
  }
  db.setNextId('sale.order', 21);

  ins('purchase.order', 1, { name: 'P00001', partner_id: 9, state: 'purchase', date_order: at, company_id: 1, currency_id: 1, picking_type_id: 1, invoice_status: 'no', receipt_status: 'pending', priority: '0', amount_untaxed: 65, amount_total: 65, user_id: 2 });
  ins('purchase.order.line', 1, { order_id: 1, product_id: 18, name: '[E-COM08] Storage Box', product_qty: 5, product_uom: 1, price_unit: 13.0, price_subtotal: 65, price_total: 65, sequence: 10, company_id: 1, currency_id: 1, partner_id: 9 });
  ins('purchase.order', 2, { name: 'P00002', partner_id: 12, state: 'draft', date_order: at, company_id: 1, currency_id: 1, picking_type_id: 1, invoice_status: 'no', receipt_status: false, priority: '0', amount_untaxed: 480, amount_total: 480, user_id: 2 });
  ins('purchase.order.line', 2, { order_id: 2, product_id: 13, name: '[FURN_0097] Customizable Desk (Steel, Black)', product_qty: 1, product_uom: 1, price_unit: 480.0, price_subtotal: 480, price_total: 480, sequence: 10, company_id: 1, currency_id: 1, partner_id: 12 });
  ins('purchase.order', 3, { name: 'P00003', partner_id: 9, state: 'draft', date_order: at, company_id: 1, currency_id: 1, picking_type_id: 1, invoice_status: 'no', receipt_status: false, priority: '0', amount_untaxed: 0, amount_total: 0, user_id: 2 });

  // 20 pickings written in the demo-data transaction: 14 deliveries and 6 receipts, interleaved
  // as the demo data creates them (ids 1-7 OUT, 8-13 IN, 14-20 OUT).
  const pickings: { id: number; out: boolean; n: number }[] = [];
  for (let id = 1, o = 1, r = 1; id <= 20; id++) {
    const out = id <= 7 || id >= 14;
    pickings.push({ id, out, n: out ? o++ : r++ });
  }
  let moveId = 1;
  for (const p of pickings) {
    const states = ['assigned', 'assigned', 'draft', 'draft', 'assigned', 'assigned', 'done'];
    const state = p.out ? states[(p.n - 1) % states.length]! : p.n % 3 === 0 ? 'done' : 'assigned';
    const product = p.out ? 13 : 18;
    const qty = 1 + (p.id % 4);
    ins('stock.picking', p.id, {
      name: `WH/${p.out ? 'OUT' : 'IN'}/${String(p.n).padStart(5, '0')}`, state, picking_type_id: p.out ? 2 : 1,
      picking_type_code: p.out ? 'outgoing' : 'incoming', location_id: p.out ? 8 : 4, location_dest_id: p.out ? 5 : 8,
      partner_id: p.out ? customers[p.id % customers.length]! : 9, origin: p.out ? (p.id === 4 ? 'your company warehouse' : 'outgoing shipment') : 'incoming shipment',
      move_type: 'direct', priority: '0', scheduled_date: at, date_done: state === 'done' ? at : false,
      sale_id: false, carrier_tracking_ref: false, backorder_id: false, company_id: 1, user_id: 2,
    });
    ins('stock.move', moveId, {
      name: db.displayName('product.product', product), reference: `WH/${p.out ? 'OUT' : 'IN'}/${String(p.n).padStart(5, '0')}`,
      picking_id: p.id, product_id: product, product_uom_qty: qty, quantity: state === 'draft' ? 0 : qty, product_uom: 1,
      state, picked: state === 'done', location_id: p.out ? 8 : 4, location_dest_id: p.out ? 5 : 8, date: at,
      procure_method: 'make_to_stock', company_id: 1, picking_type_id: p.out ? 2 : 1, sequence: 10, is_inventory: false, priority: '0',
    });
    moveId++;
  }

  // Ids continue where the recorded server's tables stood, so replayed requests name the same records.
  const nextIds: [string, number][] = [
    ['sale.order', 59], ['stock.picking', 61], ['stock.move', 91], ['purchase.order', 21], ['purchase.order.line', 33],
    ['account.move', 37], ['confirm.stock.sms', 14], ['stock.backorder.confirmation', 10], ['sale.advance.payment.inv', 14],
  ];
  for (const [model, next] of nextIds) db.setNextId(model, next);
}
