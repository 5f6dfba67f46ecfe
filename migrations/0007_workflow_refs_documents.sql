-- Documents the hub keeps for partners: carrier labels (PDF, ZPL) and manifests. Events carry
-- their URI (`urn:hub:document:<ref>`), never their bytes. `ref` is chosen by the writer and
-- unique per tenant, so storing the same label twice (a retried step) stores it once.
create table hub_documents (
  id         bigint generated always as identity primary key,
  tenant_id  text        not null references hub_tenants (id),
  ref        text        not null,
  kind       text        not null,
  media_type text        not null,
  content    bytea       not null,
  created_at timestamptz not null default now(),
  constraint hub_documents_ref_key unique (tenant_id, ref),
  constraint hub_documents_kind_check check (kind in ('label', 'manifest', 'pod'))
);

-- The ids partners know an instance by (a fulfilment request id, a shipment id, a tracking
-- number), so an event that names only one of them reaches its workflow instance.
create table hub_workflow_refs (
  tenant_id  text        not null references hub_tenants (id),
  workflow   text        not null,
  ref        text        not null,
  instance   text        not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, workflow, ref)
);
