/**
 * What changes between the Odoo versions the simulator can be, for the models and fields a
 * logistics client touches. The recorded `fields_get` is Odoo 18's; 17 and 19 are described as
 * differences from it, each one a change a client meets on the wire:
 *
 * - 17 → 18 (the 17.3 stock revamp): a product's `type` was `consu | service | product`
 *   ("Storable Product") with a `detailed_type` twin; 18 has `consu | service | combo` and the
 *   boolean `is_storable` ("Track Inventory"). A client reading `is_storable` from a 17 gets
 *   "Invalid field"; a domain on `type = 'product'` finds nothing in 18.
 * - 18 → 19: `res.partner.mobile` is gone (reading it is "Invalid field"); a purchase order has
 *   no `done` ("Locked") state any more but a `locked` boolean, set by `button_lock` instead of
 *   `button_done`.
 */
import type { FieldDef, ModelDef } from './registry.ts';

export type OdooVersion = 17 | 18 | 19;

type Delta = (models: Map<string, ModelDef>) => void;

function field(name: string, f: Omit<FieldDef, 'name' | 'required' | 'readonly' | 'store'> & Partial<FieldDef>): FieldDef {
  return { name, required: false, readonly: false, store: true, ...f };
}

const PRODUCT_TYPES_17: [string, string][] = [['consu', 'Consumable'], ['service', 'Service'], ['product', 'Storable Product']];

const DELTAS: Record<OdooVersion, Delta> = {
  17: (models) => {
    for (const name of ['product.product', 'product.template']) {
      const m = models.get(name);
      if (!m) continue;
      m.fields.delete('is_storable');
      const type = m.fields.get('type');
      if (type) m.fields.set('type', { ...type, string: 'Type', selection: PRODUCT_TYPES_17 });
      m.fields.set('detailed_type', field('detailed_type', { type: 'selection', string: 'Product Type', required: true, selection: PRODUCT_TYPES_17 }));
    }
  },
  18: () => {},
  19: (models) => {
    models.get('res.partner')?.fields.delete('mobile');
    const po = models.get('purchase.order');
    if (po) {
      const state = po.fields.get('state');
      if (state?.selection) po.fields.set('state', { ...state, selection: state.selection.filter(([v]) => v !== 'done') });
      po.fields.set('locked', field('locked', { type: 'boolean', string: 'Locked' }));
    }
  },
};

/** Adjust Odoo 18 model definitions (copied by the caller) to `version`. */
export function applyVersion(models: Map<string, ModelDef>, version: OdooVersion): void {
  DELTAS[version](models);
}

/** Whether a product moves through pickings: goods (18, 19) or consumable/storable (17). */
export function isGoodsType(version: OdooVersion, type: unknown): boolean {
  return type === 'consu' || (version === 17 && type === 'product');
}

/** The product fields saying "goods, stock tracked" in `version`. */
export function storableProductValues(version: OdooVersion, storable: boolean): Record<string, unknown> {
  if (version === 17) {
    const type = storable ? 'product' : 'service';
    return { type, detailed_type: type };
  }
  return { type: storable ? 'consu' : 'service', is_storable: storable };
}
