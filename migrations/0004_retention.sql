-- The retention job looks for events received before its cutoff whose personal data is
-- still in place; without this index every run would scan the whole inbox.
create index hub_events_not_anonymised_idx on hub_events (received_at) where anonymised_at is null;
