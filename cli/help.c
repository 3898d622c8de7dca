/* help.c: the help and the bash completion, both made from the table in resources.c and
 * the global flags in main.c, so they say exactly what the parser accepts. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const char *
type_note(const ctl_flag *f)
{
    switch (f->type) {
    case CTL_T_LIST:
        return " (comma-separated, repeatable)";
    case CTL_T_FILES:
    case CTL_T_OBJECTS:
        return " (repeatable)";
    default:
        return "";
    }
}

/* "-o, --output FILE" or "    --name NAME": long names line up whether or not a short one
 * comes first. */
static void
option_line(FILE *out, char short_name, const char *name, const char *metavar,
            const char *help, const char *note, bool required)
{
    char left[96];

    snprintf(left, sizeof(left), "%c%c%s--%s%s%s", short_name ? '-' : ' ',
             short_name ? short_name : ' ', short_name ? ", " : "  ", name,
             metavar ? " " : "", metavar ? metavar : "");
    fprintf(out, "  %-32s %s%s%s\n", left, help, note, required ? " (required)" : "");
}

static void
flag_line(FILE *out, const ctl_flag *f)
{
    option_line(out, f->short_name, f->name, f->type == CTL_T_SWITCH ? NULL : f->metavar,
                f->help, type_note(f), f->opts & CTL_F_REQUIRED);
}

static void
global_line(FILE *out, const ctl_global *g)
{
    option_line(out, g->short_name, g->name, g->metavar, g->help, "", false);
}

void
ctl_help_main(FILE *out)
{
    fprintf(out,
            "sovctl: the command line of sovereign, a European sovereign cloud.\n\n"
            "Usage: sovctl RESOURCE VERB [ARGUMENTS] [FLAGS]\n"
            "       sovctl COMMAND [FLAGS]\n\nCommands and resources:\n");
    for (size_t i = 0; i < ctl_resources_count; i++)
        fprintf(out, "  %-12s %s\n", ctl_resources[i].name, ctl_resources[i].summary);
    fprintf(out, "\nGlobal flags (anywhere after the command):\n");
    for (size_t i = 0; i < ctl_globals_count; i++)
        global_line(out, &ctl_globals[i]);
    fprintf(out,
            "\nEnvironment:\n"
            "  SOVCTL_ENDPOINT, SOVCTL_TOKEN   override the profile's endpoint and token\n"
            "  SOVCTL_PROFILE                  the profile to use (like --profile)\n"
            "  SOVCTL_CONFIG                   the config file (default "
            "~/.config/sovctl/config)\n"
            "  SOVCTL_IDEMPOTENCY_KEY          the Idempotency-Key of creates (like "
            "--idempotency-key)\n"
            "  NO_COLOR                        no colour\n"
            "\nExit status: 0 success, 1 the API refused or an operation failed, 2 usage error,\n"
            "3 no connection (or TLS failure, or timeout), 130 stopped waiting on Ctrl-C.\n"
            "\nGet started: sovctl login --endpoint URL --token-file FILE; then sovctl whoami.\n"
            "'sovctl RESOURCE --help' lists a resource's verbs; 'sovctl RESOURCE VERB --help' "
            "its flags.\n");
}

/* "email,name" as "email or name". */
static const char *
or_list(const char *members)
{
    static char buf[128];
    size_t n = 0;

    for (const char *p = members; *p && n + 5 < sizeof(buf); p++) {
        if (*p == ',') {
            n += (size_t) snprintf(buf + n, sizeof(buf) - n, " or ");
            continue;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return buf;
}

static void
verb_usage(FILE *out, const ctl_resource *res, const ctl_verb *verb)
{
    fprintf(out, "Usage: sovctl %s%s%s", res->name, verb->name[0] ? " " : "", verb->name);
    if (verb->args)
        fprintf(out, " %s", verb->args);
    for (const ctl_flag *f = verb->flags; f && f->name; f++)
        if (f->opts & CTL_F_REQUIRED)
            fprintf(out, " --%s %s", f->name, f->metavar);
    fprintf(out, " [FLAGS]\n");
}

/* What an argument may be: "INSTANCE: its id or its name". */
static void
args_note(FILE *out, const ctl_resource *res, const ctl_verb *verb)
{
    if (!verb->args || !verb->path || !strstr(verb->path, "{id}"))
        return;
    if (res->match)
        fprintf(out, "\n%.*s: the %s's %s, or its %s.\n", (int) strcspn(verb->args, " "),
                verb->args, res->name, res->key, or_list(res->match));
}

void
ctl_help_verb(FILE *out, const ctl_resource *res, const ctl_verb *verb)
{
    fprintf(out, "sovctl %s%s%s: %s\n\n", res->name, verb->name[0] ? " " : "", verb->name,
            verb->summary);
    verb_usage(out, res, verb);
    args_note(out, res, verb);
    if ((verb->flags && verb->flags->name) || (verb->opts & CTL_V_ASYNC))
        fprintf(out, "\nFlags:\n");
    for (const ctl_flag *f = verb->flags; f && f->name; f++)
        flag_line(out, f);
    if (verb->opts & CTL_V_ASYNC)
        option_line(out, 0, "wait", NULL, "follow the operation to its end (Ctrl-C stops "
                    "the waiting, not the work)", "", false);
    if (verb->opts & CTL_V_WAITS)
        fprintf(out, "\nFollows its operation to its end (Ctrl-C stops the waiting, not the "
                     "work).\n");
    if (verb->method && verb->path)
        fprintf(out, "\nCalls %s %s%s.\n", verb->method, verb->path,
                (verb->opts & CTL_V_CREATE) ? " with an Idempotency-Key (safe to retry)" : "");
    fprintf(out, "Global flags (-o json|wide, --profile, --limit, ...): sovctl --help\n");
}

void
ctl_help_resource(FILE *out, const ctl_resource *res)
{
    char left[64];

    if (res->verbs[0].name[0] == '\0') {
        ctl_help_verb(out, res, &res->verbs[0]);
        return;
    }
    fprintf(out, "sovctl %s: %s\n\nUsage: sovctl %s VERB [ARGUMENTS] [FLAGS]\n\nVerbs:\n",
            res->name, res->summary, res->name);
    for (const ctl_verb *v = res->verbs; v->name; v++) {
        snprintf(left, sizeof(left), "%s%s%s", v->name, v->args ? " " : "",
                 v->args ? v->args : "");
        fprintf(out, "  %-26s %s\n", left, v->summary);
    }
    if (res->match)
        fprintf(out, "\n%s %s is named by its %s or its %s.\n",
                strchr("aeio", res->name[0]) ? "An" : "A", res->name, res->key,
                or_list(res->match));
    fprintf(out, "\n'sovctl %s VERB --help' lists a verb's flags; 'sovctl --help' the global "
                 "ones.\n", res->name);
}

/* ---- bash completion ---- */

static bool
is_file_flag(const char *metavar)
{
    return metavar && strcmp(metavar, "FILE") == 0;
}

/* Print --name once, with sep before all but the first. */
static void
print_once(FILE *out, const char *name, const char **seen, size_t *nseen, size_t max)
{
    for (size_t i = 0; i < *nseen; i++)
        if (strcmp(seen[i], name) == 0)
            return;
    if (*nseen < max)
        seen[(*nseen)++] = name;
    fprintf(out, "%s--%s", *nseen > 1 ? "|" : "", name);
}

/* Every flag of the table that takes a value (files, or other values), as a case pattern:
 * --a|--b|-o. */
static void
print_value_flags(FILE *out, bool files)
{
    const char *seen[256];
    size_t nseen = 0;

    for (size_t i = 0; i < ctl_globals_count; i++)
        if (ctl_globals[i].metavar && is_file_flag(ctl_globals[i].metavar) == files)
            print_once(out, ctl_globals[i].name, seen, &nseen, SOV_N_ELEMENTS(seen));
    for (size_t r = 0; r < ctl_resources_count; r++)
        for (const ctl_verb *v = ctl_resources[r].verbs; v->name; v++)
            for (const ctl_flag *f = v->flags; f && f->name; f++)
                if (f->type != CTL_T_SWITCH && is_file_flag(f->metavar) == files)
                    print_once(out, f->name, seen, &nseen, SOV_N_ELEMENTS(seen));
    if (!files)
        fprintf(out, "|-o");
}

static void
print_globals(FILE *out)
{
    for (size_t i = 0; i < ctl_globals_count; i++)
        fprintf(out, "%s--%s", i ? " " : "", ctl_globals[i].name);
}

/* The words after a resource: each verb's first word; and each verb of several words. */
static void
print_resource_cases(FILE *out, const ctl_resource *res)
{
    char first[64];

    fprintf(out, "    \"%s\") opts=\"", res->name);
    for (const ctl_verb *v = res->verbs; v->name; v++) {
        snprintf(first, sizeof(first), "%.*s", (int) strcspn(v->name, " "), v->name);
        if (v == res->verbs || strncmp(v[-1].name, first, strlen(first)) != 0)
            fprintf(out, "%s%s", v == res->verbs ? "" : " ", first);
    }
    fprintf(out, "\" ;;\n");
    for (const ctl_verb *v = res->verbs; v->name; v++) {
        const char *space = strchr(v->name, ' ');
        if (space && (v == res->verbs || strncmp(v[-1].name, v->name, space - v->name) != 0)) {
            fprintf(out, "    \"%s %.*s\") opts=\"", res->name, (int) (space - v->name),
                    v->name);
            for (const ctl_verb *w = v; w->name && strncmp(w->name, v->name,
                                                           (size_t) (space - v->name)) == 0; w++)
                fprintf(out, "%s%s", w == v ? "" : " ", w->name + (space - v->name) + 1);
            fprintf(out, "\" ;;\n");
        }
    }
}

static void
print_verb_case(FILE *out, const ctl_resource *res, const ctl_verb *v)
{
    const char *sep = v->name[0] ? " " : "";

    fprintf(out, "    \"%s%s%s\"|\"%s%s%s \"*) opts=\"", res->name, sep, v->name, res->name,
            sep, v->name);
    for (const ctl_flag *f = v->flags; f && f->name; f++)
        fprintf(out, "%s--%s", f == v->flags ? "" : " ", f->name);
    if (v->opts & CTL_V_ASYNC)
        fprintf(out, "%s--wait", v->flags && v->flags->name ? " " : "");
    fprintf(out, "\" ;;\n");
}

static void
print_cases(FILE *out)
{
    fprintf(out, "    \"\") opts=\"");
    for (size_t r = 0; r < ctl_resources_count; r++)
        fprintf(out, "%s ", ctl_resources[r].name);
    fprintf(out, "help\" ;;\n");
    for (size_t r = 0; r < ctl_resources_count; r++)
        if (ctl_resources[r].verbs[0].name[0])
            print_resource_cases(out, &ctl_resources[r]);
    for (size_t r = 0; r < ctl_resources_count; r++)
        for (const ctl_verb *v = ctl_resources[r].verbs; v->name; v++)
            print_verb_case(out, &ctl_resources[r], v);
    fprintf(out, "    help) opts=\"");
    for (size_t r = 0; r < ctl_resources_count; r++)
        fprintf(out, "%s%s", r ? " " : "", ctl_resources[r].name);
    fprintf(out, "\" ;;\n");
}

int
ctl_cmd_completion_bash(ctl_ctx *ctx)
{
    FILE *out = stdout;

    (void) ctx;
    fprintf(out, "# bash completion for sovctl %s, made by 'sovctl completion bash'.\n"
                 "# Load it with: source <(sovctl completion bash)\n"
                 "_sovctl()\n{\n"
                 "    local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
                 "    local prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
                 "    local i w skip=0 opts words=()\n"
                 "    case \"$prev\" in\n"
                 "    -o|--output) COMPREPLY=($(compgen -W \"table wide json\" -- \"$cur\")); "
                 "return ;;\n    ",
            SOV_VERSION);
    print_value_flags(out, true);
    fprintf(out, ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n    ");
    print_value_flags(out, false);
    fprintf(out, ") COMPREPLY=(); return ;;\n    esac\n"
                 "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
                 "        w=\"${COMP_WORDS[i]}\"\n"
                 "        if ((skip)); then skip=0; continue; fi\n"
                 "        case \"$w\" in\n        ");
    print_value_flags(out, false);
    fprintf(out, "|");
    print_value_flags(out, true);
    fprintf(out, ") skip=1 ;;\n        -*) ;;\n        *) words+=(\"$w\") ;;\n        esac\n"
                 "    done\n    case \"${words[*]}\" in\n");
    print_cases(out);
    fprintf(out, "    *) opts=\"\" ;;\n    esac\n"
                 "    if [[ $cur == -* ]]; then opts=\"$opts ");
    print_globals(out);
    fprintf(out, "\"; fi\n"
                 "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n}\n"
                 "complete -F _sovctl sovctl\n");
    return 0;
}
