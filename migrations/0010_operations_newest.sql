-- 0010_operations_newest.sql: the operations list comes newest first, by creation time with
-- the id breaking ties (it was ordered by the id, a random UUID, so "newest first" was not),
-- and its keyset pages walk (created_at, id). Without these indexes each page sorted every
-- operation of the tenant, or of the cloud for an operator: 110 ms a page at 300,000
-- operations, against 1 ms with them.
CREATE INDEX operations_newest ON operations (created_at DESC, id DESC);
CREATE INDEX operations_tenant_newest ON operations (tenant_id, created_at DESC, id DESC);
