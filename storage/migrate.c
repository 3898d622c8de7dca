/* migrate.c: storage/'s part of a migration (volumes move with their instance). Contract stub: issue 16 fills it. */
typedef int sov_migrate_unused;
