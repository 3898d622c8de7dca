/* migrate_ops.c: the "instance.migrate" worker (live and cold). Contract stub: issue 16 fills it. */
typedef int sov_migrate_ops_unused;
