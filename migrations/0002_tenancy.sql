-- Tenancy: every record belongs to a tenant (an Odoo company). Identities that were
-- unique across the hub become unique per tenant, so two companies may use the same
-- business keys and event ids without seeing each other's data.

create table hub_tenants (
  id              text        primary key,
  name            text        not null,
  odoo_company_id integer,
  created_at      timestamptz not null default now(),
  constraint hub_tenants_id_check check (id ~ '^[a-z0-9][a-z0-9_-]{0,62}$')
);
insert into hub_tenants (id, name) values ('default', 'Default company');

alter table hub_events drop constraint hub_events_source_id_key;
alter table hub_events add constraint hub_events_tenant_source_id_key unique (tenant_id, source, id);
drop index hub_events_key_seq_idx;
create index hub_events_key_seq_idx on hub_events (tenant_id, key, seq);

alter table hub_keys drop constraint hub_keys_pkey;
alter table hub_keys add constraint hub_keys_pkey primary key (tenant_id, key);

alter table hub_lifecycles drop constraint hub_lifecycles_pkey;
alter table hub_lifecycles add constraint hub_lifecycles_pkey primary key (tenant_id, key, kind);

alter table hub_timers drop constraint hub_timers_key_name_key;
alter table hub_timers add constraint hub_timers_key_name_key unique (tenant_id, key, name);

drop index hub_exceptions_key_idx;
create index hub_exceptions_key_idx on hub_exceptions (tenant_id, key);
alter table hub_exceptions add column resolved_by text;
alter table hub_exceptions add column resolution text;

drop index hub_dead_letters_status_idx;
create index hub_dead_letters_status_idx on hub_dead_letters (tenant_id, status, created_at);

alter table hub_replays add column tenant_id text not null default 'default';

-- when the retention job replaced the personal data of the payload
alter table hub_events add column anonymised_at timestamptz;
