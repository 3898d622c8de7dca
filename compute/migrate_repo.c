/* migrate_repo.c: the SQL of instance_migrations. Contract stub: issue 16 fills it. */
typedef int sov_migrate_repo_unused;
