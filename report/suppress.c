/* Suppression files (see suppress.h). */
#include "suppress.h"
#include "shell.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_kinds[] = {"leaked-across-exec", "pipe-end-held",
					  "shared-status-flags", "shared-lock", "bad-close",
					  "close-unopened", "stdio-buffer-duplicated",
					  "open-at-exit", "deadlock", "stall", NULL};

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool parse_line(struct kt_suppression *rule, char *line, const char *path, int lineno,
		       struct kt_error *err)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = '\0';
	char *save = NULL;
	for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		char *eq = strchr(tok, '=');
		if (eq == NULL) {
			kt_error_set(err, "%s:%d: '%s' is not key=value (kind, program, target or made)",
				     path, lineno, tok);
			return false;
		}
		*eq = '\0';
		const char *value = eq + 1;
		char **slot = strcmp(tok, "kind") == 0      ? &rule->kind
			      : strcmp(tok, "program") == 0 ? &rule->program
			      : strcmp(tok, "target") == 0  ? &rule->target
			      : strcmp(tok, "made") == 0    ? &rule->made
							    : NULL;
		if (slot == NULL) {
			kt_error_set(err, "%s:%d: unknown key '%s' (kind, program, target or made)", path,
				     lineno, tok);
			return false;
		}
		if (*value == '\0') {
			kt_error_set(err, "%s:%d: empty value for %s", path, lineno, tok);
			return false;
		}
		if (*slot != NULL) {
			kt_error_set(err, "%s:%d: %s given twice", path, lineno, tok);
			return false;
		}
		if (slot == &rule->kind && !has_glob(value)) {
			bool known = false;
			for (size_t i = 0; known_kinds[i] != NULL; i++)
				known = known || strcmp(known_kinds[i], value) == 0;
			if (!known) {
				kt_error_set(err, "%s:%d: unknown finding kind '%s'", path, lineno, value);
				return false;
			}
		}
		*slot = kt_xstrdup(value);
	}
	return true;
}

static void free_rule(struct kt_suppression *r)
{
	free(r->kind);
	free(r->program);
	free(r->target);
	free(r->made);
	free(r->file);
}

bool kt_suppressions_load(struct kt_suppressions *s, const char *path, struct kt_error *err)
{
	FILE *f = fopen(path, "re");
	if (f == NULL) {
		kt_error_set(err, "cannot read suppressions %s: %s", path, strerror(errno));
		return false;
	}
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	bool ok = true;
	while (ok && getline(&line, &cap, f) >= 0) {
		lineno++;
		struct kt_suppression rule = {0};
		ok = parse_line(&rule, line, path, lineno, err);
		if (ok && (rule.kind || rule.program || rule.target || rule.made)) {
			rule.file = kt_xstrdup(path);
			rule.line = lineno;
			*KT_PUSH(s->rules, s->n, s->cap) = rule;
		} else {
			free_rule(&rule);
		}
	}
	if (ok && ferror(f)) {
		kt_error_set(err, "cannot read suppressions %s: %s", path, strerror(errno));
		ok = false;
	}
	free(line);
	fclose(f);
	return ok;
}

/* Built in, like valgrind's default suppressions: well-known programs'
 * harmless habits, so that tracing them stays quiet. */
static const char default_rules[] =
	"# bash closes the ends of a pipeline's pipes again after closing them\n"
	"kind=bad-close program=bash\n"
	"# a shell opens a redirection's file (exec 3<FILE, CMD 5>FILE) because the\n"
	"# script wants the programs it runs to have it (shell.h)\n"
	"made=" KT_MADE_SHELL_REDIRECTION "\n";

bool kt_suppressions_load_defaults(struct kt_suppressions *s)
{
	char *text = kt_xstrdup(default_rules);
	struct kt_error err;
	int lineno = 0;
	bool ok = true;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); ok && line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct kt_suppression rule = {0};
		ok = parse_line(&rule, line, "(built in)", ++lineno, &err);
		if (ok && (rule.kind || rule.program || rule.target || rule.made)) {
			rule.file = kt_xstrdup("(built in)");
			rule.line = lineno;
			*KT_PUSH(s->rules, s->n, s->cap) = rule;
		} else {
			free_rule(&rule);
		}
	}
	free(text);
	return ok;
}

static bool glob_match(const char *pattern, const char *s)
{
	return pattern == NULL || fnmatch(pattern, s != NULL ? s : "", 0) == 0;
}

static bool matches(const struct kt_suppression *r, const struct kt_model *m,
		    const struct kt_finding *f)
{
	if (!glob_match(r->kind, f->kind) || !glob_match(r->target, f->target))
		return false;
	/* A made rule matches only findings whose descriptor was made so. */
	if (r->made != NULL && (f->origin.made == NULL || !glob_match(r->made, f->origin.made)))
		return false;
	if (r->program == NULL)
		return true;
	const struct kt_mproc *mp = &m->procs[f->proc];
	if (glob_match(r->program, mp->name) || (f->program && glob_match(r->program, f->program)))
		return true;
	return mp->image != NULL && mp->image->exe != NULL &&
	       glob_match(r->program, kt_basename(mp->image->exe));
}

void kt_suppressions_apply(const struct kt_suppressions *s, struct kt_model *m)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->nfindings; i++) {
		struct kt_finding *f = &m->findings[i];
		bool drop = false;
		for (size_t r = 0; r < s->n && !drop; r++)
			drop = matches(&s->rules[r], m, f);
		if (drop) {
			free(f->message);
			free(f->explanation);
			free(f->related);
			m->nsuppressed++;
		} else {
			m->findings[kept++] = *f;
		}
	}
	m->nfindings = kept;
}

void kt_suppressions_free(struct kt_suppressions *s)
{
	for (size_t i = 0; i < s->n; i++)
		free_rule(&s->rules[i]);
	free(s->rules);
	s->rules = NULL;
	s->n = s->cap = 0;
}
