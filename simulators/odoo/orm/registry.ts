/**
 * Model definitions of the simulated Odoo: the fields of the 14 logistics models as a real
 * Odoo 18 describes them (`fields_get`, read from `ODOO_FIELDS_FILE`), completed with the facts
 * that file does not hold (selection values, one2many inverses, `_order`, `_rec_name`,
 * descriptions) and with the smaller models the business flows touch.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { applyVersion, type OdooVersion } from './versions.ts';

export type FieldType =
  | 'char' | 'text' | 'html' | 'integer' | 'float' | 'monetary' | 'boolean' | 'date' | 'datetime'
  | 'selection' | 'many2one' | 'one2many' | 'many2many' | 'binary' | 'json' | 'properties'
  | 'properties_definition' | 'reference' | 'many2one_reference';

export interface FieldDef {
  name: string;
  type: FieldType;
  string: string;
  relation?: string;
  /** one2many: the many2one on `relation` pointing back. */
  inverse?: string;
  required: boolean;
  readonly: boolean;
  store: boolean;
  selection?: [string, string][];
}

export interface ModelDef {
  name: string;
  description: string;
  fields: Map<string, FieldDef>;
  /** `_order`, e.g. `date_order desc, id desc`. */
  order: string;
  /** `_rec_name`: the field display_name is derived from (unless a model-specific rule applies). */
  recName: string;
  /** Column order used when reporting the first NOT NULL violation. */
  requiredOrder: string[];
  parentField?: string;
}

/** Where the recorded `fields_get` of the logistics models lives. */
export const ODOO_FIELDS_FILE = fileURLToPath(new URL('../data/fields-odoo18.json', import.meta.url));

interface RawField {
  type: string;
  string: string;
  relation?: string;
  required?: boolean;
  readonly?: boolean;
  store?: boolean;
}

const DESCRIPTIONS: Record<string, string> = {
  'account.move': 'Journal Entry',
  'account.move.line': 'Journal Item',
  'account.payment': 'Payments',
  'delivery.carrier': 'Shipping Methods',
  'product.product': 'Product Variant',
  'purchase.order': 'Purchase Order',
  'purchase.order.line': 'Purchase Order Line',
  'res.partner': 'Contact',
  'sale.order': 'Sales Order',
  'sale.order.line': 'Sales Order Line',
  'stock.move': 'Stock Move',
  'stock.move.line': 'Product Moves (Stock Move Line)',
  'stock.picking': 'Transfer',
  'stock.quant': 'Quants',
};

const ORDERS: Record<string, string> = {
  'sale.order': 'date_order desc, id desc',
  'sale.order.line': 'order_id, sequence, id',
  'purchase.order': 'priority desc, id desc',
  'purchase.order.line': 'order_id, sequence, id',
  'stock.picking': 'priority desc, scheduled_date asc, id desc',
  'stock.move': 'sequence, id',
  'stock.move.line': 'result_package_id desc, id',
  'res.partner': 'complete_name asc, id desc',
  'account.move': 'date desc, name desc, invoice_date desc, id desc',
  'account.move.line': 'date desc, move_name desc, id',
  'account.payment': 'date desc, name desc',
  'delivery.carrier': 'sequence, id',
  'product.product': 'default_code, name, id',
  'product.template': 'is_favorite desc, name, id',
  'stock.location': 'complete_name, id',
  'stock.picking.type': 'sequence, id',
  'stock.warehouse': 'sequence, id',
  'res.currency': 'active desc, name',
  'res.company': 'sequence, name',
  'uom.uom': 'factor DESC, id',
  'res.users': 'name, login',
  'mail.message': 'id desc',
};

const REC_NAMES: Record<string, string> = {
  'res.partner': 'complete_name',
  'stock.location': 'complete_name',
  'res.users': 'name',
  'stock.backorder.confirmation': 'id',
  'confirm.stock.sms': 'id',
  'sale.advance.payment.inv': 'id',
  'account.payment.register': 'communication',
};

/** The reported NOT NULL violation follows table column order: these come first. */
const REQUIRED_ORDER: Record<string, string[]> = {
  'sale.order': ['partner_id', 'partner_invoice_id', 'partner_shipping_id', 'company_id', 'date_order', 'name', 'picking_policy'],
  'purchase.order': ['partner_id', 'company_id', 'currency_id', 'date_order', 'name', 'picking_type_id'],
  'sale.order.line': ['order_id', 'product_uom_qty', 'price_unit', 'name', 'customer_lead'],
  'purchase.order.line': ['order_id', 'product_qty', 'price_unit', 'name'],
  'stock.picking': ['picking_type_id', 'location_id', 'location_dest_id', 'move_type'],
  'stock.move': ['product_id', 'product_uom_qty', 'location_id', 'location_dest_id', 'name', 'company_id', 'date', 'product_uom', 'procure_method'],
  'stock.quant': ['product_id', 'location_id', 'in_date', 'reserved_quantity'],
};

const INVERSES: Record<string, Record<string, string>> = {
  'sale.order': { order_line: 'order_id', picking_ids: 'sale_id' },
  'purchase.order': { order_line: 'order_id' },
  'sale.order.line': { move_ids: 'sale_line_id' },
  'purchase.order.line': { move_ids: 'purchase_line_id' },
  'stock.picking': {
    move_ids: 'picking_id', move_ids_without_package: 'picking_id', move_line_ids: 'picking_id',
    move_line_ids_without_package: 'picking_id', backorder_ids: 'backorder_id', return_ids: 'return_id',
  },
  'stock.move': { move_line_ids: 'move_id', returned_move_ids: 'origin_returned_move_id' },
  'res.partner': { child_ids: 'parent_id', sale_order_ids: 'partner_id', invoice_ids: 'partner_id', user_ids: 'partner_id' },
  'account.move': { line_ids: 'move_id', invoice_line_ids: 'move_id' },
  'product.product': { stock_quant_ids: 'product_id', stock_move_ids: 'product_id' },
  'product.template': { product_variant_ids: 'product_tmpl_id', seller_ids: 'product_tmpl_id' },
  'stock.warehouse': {},
};

const SELECTIONS: Record<string, Record<string, [string, string][]>> = {
  'sale.order': {
    state: [['draft', 'Quotation'], ['sent', 'Quotation Sent'], ['sale', 'Sales Order'], ['cancel', 'Cancelled']],
    invoice_status: [['upselling', 'Upselling Opportunity'], ['invoiced', 'Fully Invoiced'], ['to invoice', 'To Invoice'], ['no', 'Nothing to Invoice']],
    delivery_status: [['pending', 'Not Delivered'], ['started', 'Started'], ['partial', 'Partially Delivered'], ['full', 'Fully Delivered']],
    picking_policy: [['direct', 'As soon as possible'], ['one', 'When all products are ready']],
  },
  'sale.order.line': {
    invoice_status: [['upselling', 'Upselling Opportunity'], ['invoiced', 'Fully Invoiced'], ['to invoice', 'To Invoice'], ['no', 'Nothing to Invoice']],
    qty_delivered_method: [['manual', 'Manual'], ['analytic', 'Analytic From Expenses'], ['stock_move', 'Stock Moves']],
    display_type: [['line_section', 'Section'], ['line_note', 'Note']],
  },
  'purchase.order': {
    state: [['draft', 'RFQ'], ['sent', 'RFQ Sent'], ['to approve', 'To Approve'], ['purchase', 'Purchase Order'], ['done', 'Locked'], ['cancel', 'Cancelled']],
    invoice_status: [['no', 'Nothing to Bill'], ['to invoice', 'Waiting Bills'], ['invoiced', 'Fully Billed']],
    receipt_status: [['pending', 'Not Received'], ['partial', 'Partially Received'], ['full', 'Fully Received']],
    priority: [['0', 'Normal'], ['1', 'Urgent']],
  },
  'stock.picking': {
    state: [['draft', 'Draft'], ['waiting', 'Waiting Another Operation'], ['confirmed', 'Waiting'], ['assigned', 'Ready'], ['done', 'Done'], ['cancel', 'Cancelled']],
    picking_type_code: [['incoming', 'Receipt'], ['outgoing', 'Delivery'], ['internal', 'Internal Transfer']],
    move_type: [['direct', 'As soon as possible'], ['one', 'When all products are ready']],
    priority: [['0', 'Normal'], ['1', 'Urgent']],
  },
  'stock.move': {
    state: [['draft', 'New'], ['waiting', 'Waiting Another Move'], ['confirmed', 'Waiting Availability'], ['partially_available', 'Partially Available'], ['assigned', 'Available'], ['done', 'Done'], ['cancel', 'Cancelled']],
    procure_method: [['make_to_stock', 'Default: Take From Stock'], ['make_to_order', 'Advanced: Apply Procurement Rules']],
    priority: [['0', 'Normal'], ['1', 'Urgent']],
    picking_code: [['incoming', 'Receipt'], ['outgoing', 'Delivery'], ['internal', 'Internal Transfer']],
  },
  'stock.move.line': {
    state: [['draft', 'New'], ['waiting', 'Waiting Another Move'], ['confirmed', 'Waiting Availability'], ['partially_available', 'Partially Available'], ['assigned', 'Available'], ['done', 'Done'], ['cancel', 'Cancelled']],
  },
  'account.move': {
    state: [['draft', 'Draft'], ['posted', 'Posted'], ['cancel', 'Cancelled']],
    move_type: [['entry', 'Journal Entry'], ['out_invoice', 'Customer Invoice'], ['out_refund', 'Customer Credit Note'], ['in_invoice', 'Vendor Bill'], ['in_refund', 'Vendor Credit Note'], ['out_receipt', 'Sales Receipt'], ['in_receipt', 'Purchase Receipt']],
    payment_state: [['not_paid', 'Not Paid'], ['in_payment', 'In Payment'], ['paid', 'Paid'], ['partial', 'Partially Paid'], ['reversed', 'Reversed'], ['blocked', 'Blocked'], ['invoicing_legacy', 'Invoicing App Legacy']],
    auto_post: [['no', 'No'], ['at_date', 'At Date'], ['monthly', 'Monthly'], ['quarterly', 'Quarterly'], ['yearly', 'Yearly']],
  },
  'account.payment': {
    state: [['draft', 'Draft'], ['in_process', 'In Process'], ['paid', 'Paid'], ['canceled', 'Canceled'], ['rejected', 'Rejected']],
    payment_type: [['outbound', 'Send'], ['inbound', 'Receive']],
    partner_type: [['customer', 'Customer'], ['supplier', 'Vendor']],
  },
  'res.partner': {
    type: [['contact', 'Contact'], ['invoice', 'Invoice Address'], ['delivery', 'Delivery Address'], ['other', 'Other Address']],
    company_type: [['person', 'Individual'], ['company', 'Company']],
  },
  'product.product': {
    type: [['consu', 'Goods'], ['service', 'Service'], ['combo', 'Combo']],
    tracking: [['serial', 'By Unique Serial Number'], ['lot', 'By Lots'], ['none', 'By Quantity']],
    invoice_policy: [['order', 'Ordered quantities'], ['delivery', 'Delivered quantities']],
  },
  'delivery.carrier': {
    delivery_type: [['base_on_rule', 'Based on Rules'], ['fixed', 'Fixed Price']],
    invoice_policy: [['estimated', 'Estimated cost'], ['real', 'Real cost']],
  },
};

interface ExtraField {
  t: FieldType;
  s: string;
  rel?: string;
  inv?: string;
  req?: boolean;
  ro?: boolean;
  sel?: [string, string][];
  /** Stored unless set to false. */
  store?: boolean;
}

/** Models (or fields) the recorded file does not have but the flows touch. */
const EXTRA_MODELS: Record<string, { description: string; fields: Record<string, ExtraField> }> = {
  'res.company': {
    description: 'Companies',
    fields: {
      name: { t: 'char', s: 'Company Name', req: true },
      partner_id: { t: 'many2one', s: 'Partner', rel: 'res.partner', req: true },
      currency_id: { t: 'many2one', s: 'Currency', rel: 'res.currency', req: true },
      sequence: { t: 'integer', s: 'Sequence' },
      stock_move_sms_validation: { t: 'boolean', s: 'SMS Validation with stock move' },
      has_received_warning_stock_sms: { t: 'boolean', s: 'Has Received Warning Stock Sms' },
    },
  },
  'res.currency': {
    description: 'Currency',
    fields: {
      name: { t: 'char', s: 'Currency', req: true },
      symbol: { t: 'char', s: 'Symbol', req: true },
      active: { t: 'boolean', s: 'Active' },
      rounding: { t: 'float', s: 'Rounding Factor' },
      decimal_places: { t: 'integer', s: 'Decimal Places', ro: true, store: false },
    },
  },
  'res.users': {
    description: 'User',
    fields: {
      name: { t: 'char', s: 'Name', req: true },
      login: { t: 'char', s: 'Login', req: true },
      partner_id: { t: 'many2one', s: 'Related Partner', rel: 'res.partner', req: true },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company', req: true },
      active: { t: 'boolean', s: 'Active' },
      lang: { t: 'selection', s: 'Language', sel: [['en_US', 'English (US)']] },
      tz: { t: 'selection', s: 'Timezone' },
    },
  },
  'uom.uom': {
    description: 'Product Unit of Measure',
    fields: {
      name: { t: 'char', s: 'Unit of Measure', req: true },
      factor: { t: 'float', s: 'Ratio', req: true },
      rounding: { t: 'float', s: 'Rounding Precision', req: true },
      uom_type: { t: 'selection', s: 'Type', req: true, sel: [['bigger', 'Bigger than the reference Unit of Measure'], ['reference', 'Reference Unit of Measure for this category'], ['smaller', 'Smaller than the reference Unit of Measure']] },
      active: { t: 'boolean', s: 'Active' },
    },
  },
  'product.template': {
    description: 'Product',
    fields: {
      name: { t: 'char', s: 'Name', req: true },
      default_code: { t: 'char', s: 'Internal Reference' },
      type: { t: 'selection', s: 'Product Type', req: true, sel: SELECTIONS['product.product']!['type']! },
      is_storable: { t: 'boolean', s: 'Track Inventory' },
      list_price: { t: 'float', s: 'Sales Price' },
      standard_price: { t: 'float', s: 'Cost', store: false },
      uom_id: { t: 'many2one', s: 'Unit of Measure', rel: 'uom.uom', req: true },
      uom_po_id: { t: 'many2one', s: 'Purchase Unit', rel: 'uom.uom', req: true },
      product_variant_ids: { t: 'one2many', s: 'Products', rel: 'product.product', inv: 'product_tmpl_id', req: true },
      seller_ids: { t: 'one2many', s: 'Vendors', rel: 'product.supplierinfo', inv: 'product_tmpl_id' },
      sale_ok: { t: 'boolean', s: 'Can be Sold' },
      purchase_ok: { t: 'boolean', s: 'Can be Purchased' },
      active: { t: 'boolean', s: 'Active' },
      is_favorite: { t: 'boolean', s: 'Favorite' },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company' },
    },
  },
  'product.supplierinfo': {
    description: 'Supplier Pricelist',
    fields: {
      partner_id: { t: 'many2one', s: 'Vendor', rel: 'res.partner', req: true },
      product_tmpl_id: { t: 'many2one', s: 'Product Template', rel: 'product.template' },
      product_id: { t: 'many2one', s: 'Product Variant', rel: 'product.product' },
      price: { t: 'float', s: 'Unit Price', req: true },
      min_qty: { t: 'float', s: 'Quantity', req: true },
      delay: { t: 'integer', s: 'Delivery Lead Time', req: true },
      sequence: { t: 'integer', s: 'Sequence' },
      currency_id: { t: 'many2one', s: 'Currency', rel: 'res.currency', req: true },
    },
  },
  'stock.warehouse': {
    description: 'Warehouse',
    fields: {
      name: { t: 'char', s: 'Warehouse', req: true },
      code: { t: 'char', s: 'Short Name', req: true },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company', req: true },
      partner_id: { t: 'many2one', s: 'Address', rel: 'res.partner' },
      lot_stock_id: { t: 'many2one', s: 'Location Stock', rel: 'stock.location', req: true },
      view_location_id: { t: 'many2one', s: 'View Location', rel: 'stock.location', req: true },
      in_type_id: { t: 'many2one', s: 'In Type', rel: 'stock.picking.type' },
      out_type_id: { t: 'many2one', s: 'Out Type', rel: 'stock.picking.type' },
      int_type_id: { t: 'many2one', s: 'Internal Type', rel: 'stock.picking.type' },
      delivery_steps: { t: 'selection', s: 'Outgoing Shipments', req: true, sel: [['ship_only', 'Deliver (1 step)'], ['pick_ship', 'Pick then Deliver (2 steps)'], ['pick_pack_ship', 'Pick, Pack, then Deliver (3 steps)']] },
      reception_steps: { t: 'selection', s: 'Incoming Shipments', req: true, sel: [['one_step', 'Receive and Store (1 step)'], ['two_steps', 'Receive then Store (2 steps)'], ['three_steps', 'Receive, Quality Control, then Store (3 steps)']] },
      sequence: { t: 'integer', s: 'Sequence' },
      active: { t: 'boolean', s: 'Active' },
    },
  },
  'stock.location': {
    description: 'Inventory Locations',
    fields: {
      name: { t: 'char', s: 'Location Name', req: true },
      complete_name: { t: 'char', s: 'Full Location Name' },
      location_id: { t: 'many2one', s: 'Parent Location', rel: 'stock.location' },
      child_ids: { t: 'one2many', s: 'Contains', rel: 'stock.location', inv: 'location_id' },
      usage: { t: 'selection', s: 'Location Type', req: true, sel: [['supplier', 'Vendor'], ['view', 'Virtual'], ['internal', 'Internal'], ['customer', 'Customer'], ['inventory', 'Inventory Loss'], ['production', 'Production'], ['transit', 'Transit']] },
      warehouse_id: { t: 'many2one', s: 'Warehouse', rel: 'stock.warehouse', ro: true },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company' },
      barcode: { t: 'char', s: 'Barcode' },
      active: { t: 'boolean', s: 'Active' },
    },
  },
  'stock.picking.type': {
    description: 'Picking Type',
    fields: {
      name: { t: 'char', s: 'Operation Type', req: true },
      code: { t: 'selection', s: 'Type of Operation', req: true, sel: [['incoming', 'Receipt'], ['outgoing', 'Delivery'], ['internal', 'Internal Transfer']] },
      sequence_code: { t: 'char', s: 'Sequence Prefix', req: true },
      sequence_id: { t: 'many2one', s: 'Reference Sequence', rel: 'ir.sequence' },
      warehouse_id: { t: 'many2one', s: 'Warehouse', rel: 'stock.warehouse' },
      default_location_src_id: { t: 'many2one', s: 'Default Source Location', rel: 'stock.location', req: true },
      default_location_dest_id: { t: 'many2one', s: 'Default Destination Location', rel: 'stock.location', req: true },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company', req: true },
      sequence: { t: 'integer', s: 'Sequence' },
      active: { t: 'boolean', s: 'Active' },
    },
  },
  'ir.sequence': {
    description: 'Sequence',
    fields: {
      name: { t: 'char', s: 'Name', req: true },
      code: { t: 'char', s: 'Sequence Code' },
      prefix: { t: 'char', s: 'Prefix' },
      padding: { t: 'integer', s: 'Sequence Size', req: true },
      number_next: { t: 'integer', s: 'Next Number', req: true },
      number_next_actual: { t: 'integer', s: 'Actual Next Number', store: false },
      number_increment: { t: 'integer', s: 'Step', req: true },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company' },
      active: { t: 'boolean', s: 'Active' },
    },
  },
  'account.payment.term': {
    description: 'Payment Terms',
    fields: { name: { t: 'char', s: 'Payment Terms', req: true }, active: { t: 'boolean', s: 'Active' } },
  },
  'account.journal': {
    description: 'Journal',
    fields: {
      name: { t: 'char', s: 'Journal Name', req: true },
      code: { t: 'char', s: 'Short Code', req: true },
      type: { t: 'selection', s: 'Type', req: true, sel: [['sale', 'Sales'], ['purchase', 'Purchase'], ['cash', 'Cash'], ['bank', 'Bank'], ['credit', 'Credit Card'], ['general', 'Miscellaneous']] },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company', req: true },
    },
  },
  'product.category': {
    description: 'Product Category',
    fields: { name: { t: 'char', s: 'Name', req: true }, complete_name: { t: 'char', s: 'Complete Name' }, parent_id: { t: 'many2one', s: 'Parent Category', rel: 'product.category' } },
  },
  'stock.backorder.confirmation': {
    description: 'Backorder Confirmation',
    fields: {
      pick_ids: { t: 'many2many', s: 'Pick', rel: 'stock.picking' },
      show_transfers: { t: 'boolean', s: 'Show Transfers' },
    },
  },
  'confirm.stock.sms': {
    description: 'Confirm Stock SMS',
    fields: { company_id: { t: 'many2one', s: 'Company', rel: 'res.company', req: true } },
  },
  'sale.advance.payment.inv': {
    description: 'Sales Advance Payment Invoice',
    fields: {
      advance_payment_method: { t: 'selection', s: 'Create Invoice', req: true, sel: [['delivered', 'Regular invoice'], ['percentage', 'Down payment (percentage)'], ['fixed', 'Down payment (fixed amount)']] },
      sale_order_ids: { t: 'many2many', s: 'Sale Order', rel: 'sale.order' },
      amount: { t: 'float', s: 'Down Payment Amount' },
      fixed_amount: { t: 'monetary', s: 'Down Payment Amount (Fixed)' },
      currency_id: { t: 'many2one', s: 'Currency', rel: 'res.currency', store: false },
      company_id: { t: 'many2one', s: 'Company', rel: 'res.company', store: false },
    },
  },
  'mail.message': {
    description: 'Message',
    fields: {
      subject: { t: 'char', s: 'Subject' },
      body: { t: 'html', s: 'Contents' },
      model: { t: 'char', s: 'Related Document Model' },
      res_id: { t: 'many2one_reference', s: 'Related Document ID' },
      record_name: { t: 'char', s: 'Message Record Name' },
      message_type: { t: 'selection', s: 'Type', req: true, sel: [['email', 'Incoming Email'], ['comment', 'Comment'], ['email_outgoing', 'Outgoing Email'], ['notification', 'System notification'], ['auto_comment', 'Automated Targeted Notification'], ['user_notification', 'User Specific Notification']] },
      subtype_id: { t: 'many2one', s: 'Subtype', rel: 'mail.message.subtype' },
      author_id: { t: 'many2one', s: 'Author', rel: 'res.partner' },
      partner_ids: { t: 'many2many', s: 'Recipients', rel: 'res.partner' },
      date: { t: 'datetime', s: 'Date' },
    },
  },
  'mail.message.subtype': {
    description: 'Message subtypes',
    fields: { name: { t: 'char', s: 'Message Type', req: true }, internal: { t: 'boolean', s: 'Internal Only' } },
  },
  'account.payment.register': {
    description: 'Pay',
    fields: {
      line_ids: { t: 'many2many', s: 'Journal items', rel: 'account.move.line' },
      amount: { t: 'monetary', s: 'Amount' },
      payment_date: { t: 'date', s: 'Payment Date', req: true },
      communication: { t: 'char', s: 'Memo' },
      journal_id: { t: 'many2one', s: 'Journal', rel: 'account.journal' },
      currency_id: { t: 'many2one', s: 'Currency', rel: 'res.currency' },
      partner_id: { t: 'many2one', s: 'Customer/Vendor', rel: 'res.partner', ro: true },
      payment_type: { t: 'selection', s: 'Payment Type', sel: SELECTIONS['account.payment']!['payment_type']! },
    },
  },
};

/** Magic and common columns every model has. */
const MAGIC: Record<string, ExtraField> = {
  id: { t: 'integer', s: 'ID', ro: true },
  display_name: { t: 'char', s: 'Display Name', ro: true, store: false },
  create_uid: { t: 'many2one', s: 'Created by', rel: 'res.users', ro: true },
  create_date: { t: 'datetime', s: 'Created on', ro: true },
  write_uid: { t: 'many2one', s: 'Last Updated by', rel: 'res.users', ro: true },
  write_date: { t: 'datetime', s: 'Last Updated on', ro: true },
};

/** Fields the flows rely on but that the recorded file does not list for a model. */
const EXTRA_FIELDS: Record<string, Record<string, ExtraField>> = {
  'product.product': { product_tmpl_id: { t: 'many2one', s: 'Product Template', rel: 'product.template', req: true } },
  'res.partner': { complete_name: { t: 'char', s: 'Complete Name' } },
};

function fromExtra(name: string, f: ExtraField): FieldDef {
  const d: FieldDef = { name, type: f.t, string: f.s, required: f.req ?? false, readonly: f.ro ?? false, store: f.store ?? true };
  if (f.rel) d.relation = f.rel;
  if (f.inv) d.inverse = f.inv;
  if (f.sel) d.selection = f.sel;
  return d;
}

export class Registry {
  readonly models = new Map<string, ModelDef>();

  /** The models of Odoo `version`, from the recorded Odoo 18 `fields_get` and the version's differences. */
  constructor(fieldsFile: string = ODOO_FIELDS_FILE, version: OdooVersion = 18) {
    const raw = JSON.parse(readFileSync(fieldsFile, 'utf8')) as Record<string, Record<string, RawField>>;
    for (const [model, fields] of Object.entries(raw)) {
      const m = this.ensure(model, DESCRIPTIONS[model] ?? model);
      for (const [name, f] of Object.entries(fields)) {
        const d: FieldDef = {
          name, type: f.type as FieldType, string: f.string,
          required: f.required ?? false, readonly: f.readonly ?? false, store: f.store ?? false,
        };
        if (f.relation) d.relation = f.relation;
        const inv = INVERSES[model]?.[name];
        if (inv) d.inverse = inv;
        const sel = SELECTIONS[model]?.[name];
        if (sel) d.selection = sel;
        else if (d.type === 'selection') d.selection = [];
        m.fields.set(name, d);
      }
    }
    for (const [model, spec] of Object.entries(EXTRA_MODELS)) {
      const m = this.ensure(model, spec.description);
      for (const [name, f] of Object.entries(spec.fields)) if (!m.fields.has(name)) m.fields.set(name, fromExtra(name, f));
    }
    for (const [model, fields] of Object.entries(EXTRA_FIELDS)) {
      const m = this.models.get(model);
      if (!m) continue;
      for (const [name, f] of Object.entries(fields)) if (!m.fields.has(name)) m.fields.set(name, fromExtra(name, f));
    }
    for (const m of this.models.values()) {
      for (const [name, f] of Object.entries(MAGIC)) if (!m.fields.has(name)) m.fields.set(name, fromExtra(name, f));
      for (const f of m.fields.values()) {
        if (f.type === 'one2many' && !f.inverse && f.relation) {
          // Unknown inverse: a one2many nobody fills reads as empty.
          f.inverse = '';
        }
      }
      if (m.fields.get('parent_id')?.relation === m.name) m.parentField = 'parent_id';
      if (m.name === 'stock.location') m.parentField = 'location_id';
    }
    applyVersion(this.models, version);
  }

  private ensure(model: string, description: string): ModelDef {
    let m = this.models.get(model);
    if (!m) {
      m = {
        name: model, description, fields: new Map(), order: ORDERS[model] ?? 'id',
        recName: REC_NAMES[model] ?? 'name', requiredOrder: REQUIRED_ORDER[model] ?? [],
      };
      this.models.set(model, m);
    }
    return m;
  }

  get(model: string): ModelDef | undefined {
    return this.models.get(model);
  }
}

const shared = new Map<OdooVersion, Registry>();
/** The registry of an Odoo version built from `ODOO_FIELDS_FILE`, created once per version. */
export function defaultRegistry(version: OdooVersion = 18): Registry {
  let r = shared.get(version);
  if (!r) shared.set(version, (r = new Registry(ODOO_FIELDS_FILE, version)));
  return r;
}
