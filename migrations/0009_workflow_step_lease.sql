-- One step at a time per workflow instance: two steps of one order must not talk to the same
-- partner record at once (two parts validating the same Odoo delivery, two invoices created
-- side by side). A runner takes the instance's step lease before it claims a step and gives
-- it back when the step ends; a lease left by a dead process runs out.
alter table hub_workflows add column step_lease_until timestamptz;
alter table hub_workflows add column step_lease_id bigint;
