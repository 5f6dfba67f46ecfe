-- Workflows. One row per running instance (an order's way from release to invoice): its state
-- is a JSON document owned by the workflow's pure decide function, changed only in the
-- transaction that handles one of the instance's events. One row per step: a call to an
-- external system (release to the WMS, book a carrier, validate the Odoo delivery), claimed
-- by the step runner with a lease, retried with backoff, idempotent by its step key (the
-- idempotency key sent to the partner where it takes one).
create table hub_workflows (
  tenant_id  text        not null references hub_tenants (id),
  workflow   text        not null,
  instance   text        not null,
  state      jsonb       not null,
  status     text        not null default 'running',
  version    integer     not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, workflow, instance),
  constraint hub_workflows_status_check check (status in ('running', 'completed', 'cancelled'))
);

create table hub_workflow_steps (
  id          bigint generated always as identity primary key,
  tenant_id   text        not null references hub_tenants (id),
  workflow    text        not null,
  instance    text        not null,
  step        text        not null,
  step_key    text        not null,
  input       jsonb       not null default '{}'::jsonb,
  status      text        not null default 'pending',
  attempts    integer     not null default 0,
  run_at      timestamptz not null default now(),
  lease_until timestamptz,
  output      jsonb,
  error       jsonb,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint hub_workflow_steps_key unique (tenant_id, workflow, instance, step_key),
  constraint hub_workflow_steps_status_check check (status in ('pending', 'running', 'done', 'failed', 'cancelled'))
);
create index hub_workflow_steps_due_idx on hub_workflow_steps (run_at) where status = 'pending';
create index hub_workflow_steps_lease_idx on hub_workflow_steps (lease_until) where status = 'running';
create index hub_workflow_steps_instance_idx on hub_workflow_steps (tenant_id, workflow, instance);
