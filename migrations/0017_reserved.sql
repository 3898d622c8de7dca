-- 0017: reserved for part "storage" of issue 20 (its migrations/0017_<name>.sql). This branch
-- (i20-net, whose change is 0018) needs an unbroken sequence to build; at the merge, the
-- storage part's 0017 replaces this file, which changes nothing.
SELECT 1;
