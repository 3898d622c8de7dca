-- 0018: network SKUs, the bandwidth classes of SECA's network provider (issue 20): what a
-- network (and by default each NIC of it) is sized for. network_skus is the catalogue
-- (operators' data, seeded with SECA's three tiers); networks.sku is the class a network was
-- created with (NULL: made through /v1, the default class "seca.n1k"); subnets.route_table
-- and subnets.sku are what a SECA subnet names (its route table, a SECA object of
-- seca_objects, by name; its NICs' default class).

CREATE TABLE network_skus (
    name text PRIMARY KEY,
    bandwidth_mbps integer NOT NULL CHECK (bandwidth_mbps BETWEEN 1 AND 800000),
    packets_per_second bigint NOT NULL CHECK (packets_per_second BETWEEN 1 AND 200000000000),
    tier text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO network_skus (name, bandwidth_mbps, packets_per_second, tier) VALUES
    ('seca.n1k', 1000, 10000, 'N1K'),
    ('seca.n5k', 5000, 40000, 'N5K'),
    ('seca.n10k', 10000, 80000, 'N10K');

ALTER TABLE networks ADD COLUMN sku text REFERENCES network_skus (name);
ALTER TABLE subnets ADD COLUMN route_table text;
ALTER TABLE subnets ADD COLUMN sku text REFERENCES network_skus (name);
-- A NIC's own class (SECA's nic skuRef); the port's rate in OVN is the first of the port's,
-- its subnet's and its network's that is set (none: no rate, as for /v1 ports).
ALTER TABLE ports ADD COLUMN sku text REFERENCES network_skus (name);
