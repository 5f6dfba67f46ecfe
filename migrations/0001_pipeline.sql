-- Durable event pipeline: inbox (events), per-key work state, processing history,
-- dead letters and replays, business exceptions, transactional outbox, durable timers,
-- cross-reference registry and folded lifecycles.

-- The inbox. An event is stored here before it is acknowledged; (source, id) is the
-- CloudEvents identity, so a duplicate is recognised by the unique constraint.
create table hub_events (
  seq             bigint generated always as identity primary key,
  tenant_id       text        not null default 'default',
  source          text        not null,
  id              text        not null,
  type            text        not null,
  specversion     text        not null default '1.0',
  subject         text,
  key             text        not null,
  time            timestamptz,               -- the CloudEvents `time` attribute as sent
  occurred_at     timestamptz,               -- when it happened: the data's own time, else `time`
  received_at     timestamptz not null default now(),
  datacontenttype text,
  dataschema      text,
  data            jsonb,
  extensions      jsonb       not null default '{}'::jsonb,
  correlation_id  text,
  constraint hub_events_source_id_key unique (source, id)
);
create index hub_events_key_seq_idx on hub_events (key, seq);
create index hub_events_received_at_idx on hub_events (received_at);

-- Work state per business key. One key's events are handled strictly in seq order by at
-- most one worker (the lease holder); different keys in parallel.
create table hub_keys (
  key         text        primary key,
  tenant_id   text        not null default 'default',
  pending     integer     not null default 0,   -- stored, not yet handled or dead-lettered
  cursor      bigint      not null default 0,   -- seq of the last event handled for the key
  head_seq    bigint,                           -- seq of the oldest pending event: keys are claimed oldest first
  attempts    integer     not null default 0,   -- failed attempts of the next event
  run_at      timestamptz not null default '-infinity',
  locked_by   text,
  lease_until timestamptz,
  last_error  text,
  constraint hub_keys_pending_check check (pending >= 0)
);
create index hub_keys_ready_idx on hub_keys (run_at, head_seq) where pending > 0;

-- Processing history: one row per attempt at one event.
create table hub_attempts (
  id            bigint generated always as identity primary key,
  event_seq     bigint      not null references hub_events (seq),
  attempt       integer     not null,
  worker        text        not null,
  outcome       text        not null,
  error_class   text,
  error_code    text,
  error_message text,
  started_at    timestamptz not null,
  finished_at   timestamptz not null,
  constraint hub_attempts_outcome_check check (outcome in ('done', 'retry', 'dead', 'exception', 'replayed', 'replay_failed'))
);
create index hub_attempts_event_seq_idx on hub_attempts (event_seq);

-- A replay request: one, a filtered set or a time range of dead letters.
create table hub_replays (
  id           bigint generated always as identity primary key,
  requested_by text        not null,
  filter       jsonb       not null,
  total        integer     not null,
  requested_at timestamptz not null default now()
);

-- Dead letters: work that failed permanently or ran out of retries, with its reason.
create table hub_dead_letters (
  id             bigint generated always as identity primary key,
  tenant_id      text        not null default 'default',
  event_seq      bigint      not null references hub_events (seq),
  key            text        not null,
  type           text        not null,
  source         text        not null,
  reason         text        not null,
  error_class    text        not null,
  error_code     text        not null,
  attempts       integer     not null,
  status         text        not null default 'open',
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  replay_id      bigint      references hub_replays (id),
  replay_count   integer     not null default 0,
  constraint hub_dead_letters_status_check check (status in ('open', 'replaying', 'replayed')),
  constraint hub_dead_letters_event_seq_key unique (event_seq)
);
create index hub_dead_letters_status_idx on hub_dead_letters (status, created_at);

-- Business exceptions raised by handlers (a partner or rule said no).
create table hub_exceptions (
  id          bigint generated always as identity primary key,
  tenant_id   text        not null default 'default',
  key         text        not null,
  event_seq   bigint      references hub_events (seq),
  code        text        not null,
  severity    text        not null default 'error',
  message     text        not null,
  status      text        not null default 'open',
  details     jsonb       not null default '{}'::jsonb,
  created_at  timestamptz not null default now(),
  resolved_at timestamptz,
  constraint hub_exceptions_status_check check (status in ('open', 'resolved'))
);
create index hub_exceptions_key_idx on hub_exceptions (key);

-- Transactional outbox: written in the same transaction as the change it announces,
-- published afterwards (at least once; msg_id lets consumers de-duplicate).
create table hub_outbox (
  id              bigint generated always as identity primary key,
  tenant_id       text        not null default 'default',
  topic           text        not null,
  key             text,
  msg_id          text        not null,
  payload         jsonb       not null,
  headers         jsonb       not null default '{}'::jsonb,
  created_at      timestamptz not null default now(),
  next_attempt_at timestamptz not null default '-infinity',
  attempts        integer     not null default 0,
  published_at    timestamptz,
  last_error      text,
  constraint hub_outbox_msg_id_key unique (msg_id)
);
create index hub_outbox_unpublished_idx on hub_outbox (next_attempt_at, id) where published_at is null;

-- Durable timers: (key, name) is unique, so scheduling the same timer again moves it.
create table hub_timers (
  id         bigint generated always as identity primary key,
  tenant_id  text        not null default 'default',
  key        text        not null,
  name       text        not null,
  due_at     timestamptz not null,
  event_type text        not null,
  payload    jsonb       not null default '{}'::jsonb,
  status     text        not null default 'scheduled',
  created_at timestamptz not null default now(),
  fired_at   timestamptz,
  constraint hub_timers_key_name_key unique (key, name),
  constraint hub_timers_status_check check (status in ('scheduled', 'fired', 'cancelled'))
);
create index hub_timers_due_idx on hub_timers (due_at) where status = 'scheduled';

-- Cross-reference registry: each canonical id and its id in every system.
create table hub_xref (
  tenant_id    text        not null default 'default',
  entity       text        not null,
  canonical_id text        not null,
  system       text        not null,
  external_id  text        not null,
  created_at   timestamptz not null default now(),
  constraint hub_xref_pkey primary key (tenant_id, entity, system, external_id)
);
create index hub_xref_canonical_idx on hub_xref (tenant_id, entity, canonical_id);

-- Folded lifecycle of one subject (an order, a shipment, a purchase order), per kind of
-- lifecycle. The snapshot holds every distinct event considered, so late events re-fold.
create table hub_lifecycles (
  key        text        not null,
  kind       text        not null,
  tenant_id  text        not null default 'default',
  state      text,
  state_at   timestamptz,
  flags      jsonb       not null default '[]'::jsonb,
  snapshot   jsonb       not null,
  updated_at timestamptz not null default now(),
  constraint hub_lifecycles_pkey primary key (key, kind)
);
