/* migrate.c: network/'s part of a migration (ports bound on the target's chassis). Contract stub: issue 16 fills it. */
typedef int sov_migrate_unused;
