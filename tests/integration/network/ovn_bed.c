/* ovn_bed.c: network/'s in-process test bed (ovn_bed.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ovn_bed.h"
#include "sov/migrate.h"
#include "sov/repo/db_pq.h"

void
ovn_bed_db_open(char **url, sov_db **db, PGconn **pg)
{
    sov_error err = SOV_ERROR_INIT;
    sov_dbconn *c = NULL;
    unsigned applied = 0;
    sov_db_options o = { .pool_size = 4, .connect_timeout = 5, .acquire_timeout_ms = 30000,
                         .statement_timeout_ms = 60000 };

    *url = tl_db_create();
    o.url = *url;
    ck_assert_msg(sov_db_new(&o, db, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_db_acquire(*db, &c, &err) == 0, "%s", err.msg);
    ck_assert_msg(sov_migrate(c, sov_migrations, sov_migrations_count, &applied, &err) == 0,
                  "%s", err.msg);
    sov_db_release(c);
    *pg = PQconnectdb(*url);
    ck_assert_msg(PQstatus(*pg) == CONNECTION_OK, "%s", PQerrorMessage(*pg));
    sov_db_quiet(*pg);
}

void
ovn_bed_close(char *url, sov_db *db, PGconn *pg, sov_config *cfg)
{
    PQfinish(pg);
    sov_db_free(db);
    sov_config_release(cfg);
    tl_db_drop(url);
    free(url);
}

void
ovn_bed_config(sov_config *cfg, const tl_ovn *ovn)
{
    char nbflag[700], sbflag[700];
    char *argv[] = { "sovd", nbflag, sbflag, NULL };
    char *envp[] = { NULL };
    sov_error err = SOV_ERROR_INIT;
    FILE *out = fopen("/dev/null", "w");

    snprintf(nbflag, sizeof(nbflag), "--ovn-nb=%s", ovn ? ovn->nb : "");
    snprintf(sbflag, sizeof(sbflag), "--ovn-sb=%s", ovn ? ovn->sb : "");
    ck_assert(out);
    ck_assert_msg(sov_config_load(cfg, 3, argv, envp, out, &err) == 0, "%s", err.msg);
    fclose(out);
}

char *
ovn_bed_nbctl(const tl_ovn *ovn, const char *fmt, ...)
{
    char *args = NULL, *out;
    va_list ap;

    va_start(ap, fmt);
    ck_assert(vasprintf(&args, fmt, ap) > 0);
    va_end(ap);
    out = tl_ovn_nbctl(ovn, NULL, "%s", args);
    free(args);
    return out;
}

char *
ovn_bed_option(const tl_ovn *ovn, const char *port, const char *key)
{
    char *out = tl_ovn_nbctl(ovn, NULL, "--if-exists get logical_switch_port %s options:%s",
                             port, key);
    size_t n = strlen(out);

    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '"'))
        out[--n] = '\0';
    if (out[0] == '"')
        memmove(out, out + 1, n);
    return out;
}

void
ovn_bed_assert_option(const tl_ovn *ovn, const char *port, const char *key, const char *want)
{
    char *got = ovn_bed_option(ovn, port, key);

    ck_assert_msg(strcmp(got, want) == 0, "port %s options:%s is '%s', want '%s'", port, key,
                  got, want);
    free(got);
}
