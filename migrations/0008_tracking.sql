-- Carrier tracking: one row per tracked number (tenant, carrier adapter, master tracking
-- number). `state` is the fold of every scan received (src/domain/tracking-fold.ts), changed
-- only in the transaction that handles a carrier.scans.received.v1 event. The shipment and
-- order are known once the booking is registered (scans pushed before it wait here).
-- The poller asks carriers for the rows due (`next_poll_at`) that are not closed.
create table hub_tracking (
  tenant_id       text        not null references hub_tenants (id),
  carrier         text        not null,
  tracking_number text        not null,
  shipment_id     text,
  order_id        text,
  state           jsonb       not null,
  status          text        not null,
  closed          boolean     not null default false,
  next_poll_at    timestamptz,
  poll_failures   integer     not null default 0,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  primary key (tenant_id, carrier, tracking_number)
);
create index hub_tracking_poll_idx on hub_tracking (next_poll_at) where not closed;
create index hub_tracking_shipment_idx on hub_tracking (tenant_id, shipment_id);
