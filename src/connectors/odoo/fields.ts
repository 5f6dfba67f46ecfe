/**
 * Which of the fields the connector reads a given Odoo actually has. Odoo versions differ on
 * fields a logistics client reads (17 has no `product.product.is_storable`, 19 no
 * `res.partner.mobile`), and so do installations (a database without the delivery module has
 * no `carrier_tracking_ref`). Asking for a field a server lacks fails the whole `read` with
 * "Invalid field", so every read goes through `select`: one `fields_get` per model and client,
 * the wanted fields the server lacks left out (the mappers treat them as absent).
 */
import { expectResult, type OdooClient } from './client.ts';

export class OdooFieldCatalog {
  private readonly client: OdooClient;
  private readonly known = new Map<string, Promise<ReadonlySet<string>>>();
  private readonly reported = new Set<string>();
  private readonly onMissing: (model: string, fields: string[]) => void;

  /** `onMissing` hears once per model which wanted fields the server does not have. */
  constructor(client: OdooClient, onMissing: (model: string, fields: string[]) => void = () => undefined) {
    this.client = client;
    this.onMissing = onMissing;
  }

  /** The fields of `model` the server has. A failed `fields_get` is asked again next time. */
  available(model: string): Promise<ReadonlySet<string>> {
    let p = this.known.get(model);
    if (!p) {
      p = this.client.call(model, 'fields_get', [], { attributes: ['type'] }).then((r) => {
        const fields = expectResult<Record<string, unknown>>(r, `${model}.fields_get`);
        return new Set(Object.keys(fields ?? {}));
      });
      this.known.set(model, p);
      p.catch(() => this.known.delete(model));
    }
    return p;
  }

  /** `wanted`, in its order, without the fields the server does not have. */
  async select(model: string, wanted: readonly string[]): Promise<string[]> {
    const have = await this.available(model);
    const out = wanted.filter((f) => have.has(f));
    if (out.length !== wanted.length && !this.reported.has(model)) {
      this.reported.add(model);
      this.onMissing(model, wanted.filter((f) => !have.has(f)));
    }
    return out;
  }
}
