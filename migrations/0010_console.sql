-- The operations console: the hub's own users (people, as opposed to API clients), their
-- sign-in sessions, and the working notes of the exception workbench.
--
-- A user's password is kept only as a scrypt hash with its parameters; a session only as
-- the SHA-256 of its cookie value, beside the CSRF token its pages must send back.
create table hub_users (
  id              text        primary key,
  tenant_id       text        not null references hub_tenants (id),
  username        text        not null,
  display_name    text        not null,
  password_hash   text        not null,
  scopes          text[]      not null,
  created_at      timestamptz not null default now(),
  created_by      text        not null,
  password_changed_at timestamptz not null default now(),
  disabled_at     timestamptz,
  disabled_by     text,
  failed_logins   integer     not null default 0,
  locked_until    timestamptz,
  last_login_at   timestamptz,
  unique (tenant_id, username)
);

create table hub_sessions (
  id_hash       bytea       primary key,
  user_id       text        not null references hub_users (id),
  tenant_id     text        not null,
  csrf_token    text        not null,
  created_at    timestamptz not null default now(),
  last_seen_at  timestamptz not null default now(),
  expires_at    timestamptz not null,
  revoked_at    timestamptz,
  remote_ip     text,
  user_agent    text
);
create index hub_sessions_user on hub_sessions (user_id);
create index hub_sessions_expires on hub_sessions (expires_at);

-- the workbench: who owns an exception, and everything said and done about it
alter table hub_exceptions add column assignee text;
alter table hub_exceptions add column updated_at timestamptz not null default now();

create table hub_exception_notes (
  id            bigint      generated always as identity primary key,
  tenant_id     text        not null,
  exception_id  bigint      not null references hub_exceptions (id) on delete cascade,
  at            timestamptz not null default now(),
  actor         text        not null,
  kind          text        not null check (kind in ('comment', 'assigned', 'action', 'replayed', 'resolved')),
  text          text        not null,
  details       jsonb       not null default '{}'::jsonb
);
create index hub_exception_notes_exception on hub_exception_notes (exception_id, id);
create index hub_exceptions_open_by_class on hub_exceptions (tenant_id, ((details ->> 'class'))) where status = 'open';

-- the console's search by business key: any system's id, an order's or PO's number, a customer's reference
create index hub_xref_external_id on hub_xref (tenant_id, external_id);
create index hub_events_order_number on hub_events (tenant_id, lower(data ->> 'orderNumber'))
  where type like 'order.%' or type like 'purchase-order.%';
create index hub_events_customer_reference on hub_events (tenant_id, (data ->> 'customerReference'))
  where type like 'order.%' or type like 'purchase-order.%';
