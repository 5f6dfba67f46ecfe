-- Security and governance: API clients and their credentials, JWT signing keys,
-- encrypted secrets, inbound webhook receipts, the security log, outbound
-- subscriptions with their deliveries, and the hash-chained audit trail.

-- Secrets are sealed (AES-256-GCM under a per-secret data key, itself wrapped by the
-- master key): `sealed` is {v, mk, wk, iv, tag, ct}, base64 fields, mk = master key id.
create table hub_secrets (
  id         bigint generated always as identity primary key,
  tenant_id  text        not null default 'default' references hub_tenants (id),
  name       text        not null,
  version    integer     not null,
  kind       text        not null default 'opaque',
  sealed     jsonb       not null,
  created_at timestamptz not null default now(),
  created_by text        not null,
  expires_at timestamptz,                 -- an older version stays valid until then (rotation overlap)
  constraint hub_secrets_name_version_key unique (tenant_id, name, version),
  constraint hub_secrets_name_check check (name ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$')
);

create table hub_clients (
  id              text        primary key,
  tenant_id       text        not null references hub_tenants (id),
  name            text        not null,
  scopes          text[]      not null,
  rate_per_second integer,                -- null: security.rateLimit defaults
  rate_burst      integer,
  created_at      timestamptz not null default now(),
  created_by      text        not null,
  revoked_at      timestamptz,
  revoked_by      text,
  constraint hub_clients_tenant_name_key unique (tenant_id, name)
);

-- Opaque bearer tokens (also the OAuth2 client secret), stored only as SHA-256 hashes.
create table hub_client_credentials (
  id         bigint generated always as identity primary key,
  client_id  text        not null references hub_clients (id),
  hash       bytea       not null,
  hint       text        not null,        -- the first characters, to recognise a token in lists
  created_at timestamptz not null default now(),
  expires_at timestamptz,                 -- set when a rotation supersedes it: end of the overlap
  revoked_at timestamptz,
  last_used_at timestamptz,
  constraint hub_client_credentials_hash_key unique (hash)
);
create index hub_client_credentials_client_idx on hub_client_credentials (client_id);

-- Keys that sign OAuth2 access tokens (JWTs). The private key is sealed like a secret.
create table hub_signing_keys (
  kid          text        primary key,
  alg          text        not null,
  public_jwk   jsonb       not null,
  sealed       jsonb       not null,
  created_at   timestamptz not null default now(),
  signs_until  timestamptz not null,      -- a newer key signs after this
  published_until timestamptz not null    -- removed from the JWKS after this (tokens it signed have expired)
);

-- Webhooks received from partners: the raw body, stored before the 2xx.
create table hub_webhook_receipts (
  id           bigint generated always as identity primary key,
  tenant_id    text        not null references hub_tenants (id),
  partner      text        not null,
  webhook_id   text        not null,
  signed_at    timestamptz,
  received_at  timestamptz not null default now(),
  content_type text        not null,
  body_sha256  bytea       not null,
  body         bytea,                     -- null once the retention job anonymised it
  status       text        not null default 'stored',
  events       integer     not null default 0,
  error        text,
  mapped_at    timestamptz,
  constraint hub_webhook_receipts_id_key unique (tenant_id, partner, webhook_id),
  constraint hub_webhook_receipts_status_check check (status in ('stored', 'mapped', 'unmapped'))
);
create index hub_webhook_receipts_stored_idx on hub_webhook_receipts (received_at) where status = 'stored';

-- Rejected requests and other security-relevant moments (bad signatures, replays, denied scopes).
create table hub_security_log (
  id             bigint generated always as identity primary key,
  at             timestamptz not null default now(),
  tenant_id      text,
  kind           text        not null,    -- webhook, auth, oauth, rate_limit
  code           text        not null,
  partner        text,
  client_id      text,
  remote_ip      text,
  detail         text        not null,
  correlation_id text
);
create index hub_security_log_at_idx on hub_security_log (at);

-- Outbound subscriptions: endpoints that receive canonical events, signed.
create table hub_subscriptions (
  id              text        primary key,
  tenant_id       text        not null references hub_tenants (id),
  owner_client_id text        references hub_clients (id),
  url             text        not null,
  event_types     text[]      not null,   -- exact types or prefixes ending in * (order.*)
  description     text,
  secret_name     text        not null,   -- hub_secrets name holding the whsec_ signing secret(s)
  status          text        not null default 'enabled',
  failing_since   timestamptz,
  disabled_at     timestamptz,
  disabled_reason text,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  constraint hub_subscriptions_status_check check (status in ('enabled', 'disabled'))
);
create index hub_subscriptions_tenant_idx on hub_subscriptions (tenant_id);

create table hub_deliveries (
  id              bigint generated always as identity primary key,
  tenant_id       text        not null,
  subscription_id text        not null references hub_subscriptions (id),
  event_seq       bigint      not null references hub_events (seq),
  msg_id          text        not null,
  status          text        not null default 'pending',
  attempts        integer     not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  created_at      timestamptz not null default now(),
  delivered_at    timestamptz,
  constraint hub_deliveries_sub_event_key unique (subscription_id, event_seq),
  constraint hub_deliveries_status_check check (status in ('pending', 'succeeded', 'failed', 'missed'))
);
create index hub_deliveries_due_idx on hub_deliveries (next_attempt_at) where status = 'pending';
create index hub_deliveries_sub_idx on hub_deliveries (subscription_id, id);

create table hub_delivery_attempts (
  id          bigint generated always as identity primary key,
  delivery_id bigint      not null references hub_deliveries (id),
  attempt     integer     not null,
  started_at  timestamptz not null,
  duration_ms integer     not null,
  status_code integer,
  error       text
);
create index hub_delivery_attempts_delivery_idx on hub_delivery_attempts (delivery_id);

-- The audit trail: append-only, one hash chain per tenant. hash = sha256 over the
-- previous entry's hash and this entry's canonical fields (see src/security/audit.ts).
create table hub_audit (
  seq           bigint generated always as identity primary key,
  tenant_id     text        not null,
  at            timestamptz not null,
  actor         text        not null,
  action        text        not null,
  object_type   text        not null,
  object_id     text        not null,
  before_digest text,
  after_digest  text,
  details       jsonb       not null default '{}'::jsonb,
  prev_hash     text        not null,
  hash          text        not null
);
create index hub_audit_tenant_seq_idx on hub_audit (tenant_id, seq);
create index hub_audit_object_idx on hub_audit (tenant_id, object_type, object_id);

-- The head of each tenant's chain; appending locks the row, so entries chain in commit order.
create table hub_audit_heads (
  tenant_id text   primary key,
  last_seq  bigint not null,
  last_hash text   not null
);
