-- Change capture from Odoo: one cursor per tenant and model. `at` is the last write_date
-- seen (Odoo's naive UTC form, truncated to the second as Odoo returns it) and
-- `ids_at_at` the ids already emitted at exactly that second, so the next poll reads
-- `write_date >= at and id not in ids_at_at` and never loops on a crowded second.
create table hub_odoo_cursors (
  tenant_id  text        not null references hub_tenants (id),
  model      text        not null,
  at         text        not null,
  ids_at_at  bigint[]    not null default '{}',
  updated_at timestamptz not null default now(),
  primary key (tenant_id, model),
  constraint hub_odoo_cursors_at_check check (at ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$')
);
