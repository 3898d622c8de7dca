-- 0001_init.sql: who this control plane is. One row, made once, names the installation so
-- logs, metrics and signed reports can say which control plane produced them.
CREATE TABLE control_plane (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO control_plane DEFAULT VALUES;
