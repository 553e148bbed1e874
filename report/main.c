/* kcmptrace: command line, dispatch between running a command traced and
 * rendering a kept trace. Exit codes: the command's status when running one;
 * 1 for a bad trace or an I/O error; 2 for a usage error. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadlock.h"
#include "findings.h"
#include "launch.h"
#include "live.h"
#include "model.h"
#include "procfs.h"
#include "render.h"
#include "snapshot.h"
#include "suppress.h"
#include "symbolize.h"
#include "table.h"
#include "trace.h"
#include "tracedir.h"
#include "unrecorded.h"
#include "output.h"
#include "util.h"

#ifndef KT_VERSION
#define KT_VERSION "unknown"
#endif

#define EXIT_BAD_TRACE 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: kcmptrace [OPTIONS] [--] COMMAND [ARG...]\n"
	"       kcmptrace report [OPTIONS] [--remove-if-done] DIR\n"
	"       kcmptrace snapshot [--tree] [OPTIONS] PID...\n"
	"\n"
	"Run COMMAND with libkcmptrace.so preloaded and report, for every process of its\n"
	"tree, the open descriptors, where each came from, and which of them share an open\n"
	"file description (confirmed with kcmp(2) where allowed). The report goes to stderr\n"
	"(or FILE); kcmptrace exits with the command's status (128+N if killed by signal N).\n"
	"`kcmptrace report DIR` renders a kept trace again, on stdout (or FILE).\n"
	"`kcmptrace snapshot PID...` reports on running processes not started under kcmptrace\n"
	"(--tree: with all their descendants): descriptors, sharing, what each is blocked on,\n"
	"deadlocks.\n"
	"\n"
	"  --format=text|json|dot  report format (default text; dot: a Graphviz graph)\n"
	"  -o, --output=FILE   write the report to FILE\n"
	"  --trace-dir DIR     keep the trace in DIR (created mode 0700 if missing)\n"
	"  --wait=tree|command report when every descendant has ended (tree, the default)\n"
	"                      or as soon as COMMAND has (the others are shown running)\n"
	"  --stall=SECONDS     when every traced process has been asleep that long, look\n"
	"                      for a deadlock from outside (default 5; 0: never)\n"
	"  --on-deadlock=wait|kill  after a deadlock report (stderr, or FILE.deadlock with\n"
	"                      -o FILE): go on waiting (wait, the default), or end the tree\n"
	"                      and exit with --error-exitcode's N, else 143 (kill)\n"
	"  --no-watch          do not attach to static images to see their last descriptors\n"
	"                      (leaves them to a debugger; see the README)\n"
	"  --remove-if-done    (report) remove DIR afterwards unless a traced process lives\n"
	"  --error-exitcode=N  exit with N when there is a finding (error or warning;\n"
	"                      info findings too with --leaks)\n"
	"  --suppressions=FILE rules for intended sharing (several allowed)\n"
	"  --default-suppressions=yes|no  apply the built-in rules (yes, the default): bash's\n"
	"                      second closes, a shell's redirections (made=shell-redirection)\n"
	"  --no-default-suppressions  the same as --default-suppressions=no\n"
	"  --leaks             also report descriptors still open at exit (open-at-exit)\n"
	"  --report-close-minus-one  close(-1) is a bad-close finding too (as valgrind's\n"
	"                      --track-fds=bad)\n"
	"  --stack=N           show up to N frames of each call site (default 1)\n"
	"  --quiet             text report: the findings and their summary line only\n"
	"  --color=auto|always|never  colour the text report (auto, the default: when it\n"
	"                      goes to a terminal and NO_COLOR is not set)\n"
	"  -h, --help, --version\n"
	"\n"
	"Signals: SIGINT, SIGTERM, SIGHUP or SIGQUIT to kcmptrace snapshots the live tree,\n"
	"passes the signal on (not to daemons in their own session), writes the report\n"
	"and exits as the command did; SIGUSR1 writes a report of the running tree (to\n"
	"stderr, or FILE.N with -o FILE) and the run goes on.\n"
	"\n"
	"Environment: KCMPTRACE_LIB overrides the path of libkcmptrace.so; KCMPTRACE_LEAKS=1,\n"
	"KCMPTRACE_CLOSE_MINUS_ONE=1 and KCMPTRACE_STACK=N act as --leaks,\n"
	"--report-close-minus-one and --stack=N.\n";

struct options {
	enum kt_format format;
	const char *output;
	const char *trace_dir;
	bool remove_if_done;
	bool wait_command; /* --wait=command */
	bool no_watch;     /* --no-watch */
	bool report; /* the report subcommand */
	int first_operand;
	bool leaks, leaks_set;     /* --leaks */
	bool minus_one, minus_one_set; /* --report-close-minus-one */
	bool no_default_suppressions;
	int stack, stack_set;      /* --stack=N */
	bool quiet;                /* --quiet */
	enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } color; /* --color */
	int error_exitcode;        /* --error-exitcode=N, or -1 */
	long stall_ms;             /* --stall=SECONDS, in ms; 0: off */
	bool kill_on_deadlock;     /* --on-deadlock=kill */
	struct kt_suppressions suppressions;
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs(KT_PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (try 'kcmptrace --help')\n", stderr);
	return EXIT_USAGE;
}

/* Value of an option given as "--name=value", "--name value", "-o value" or
 * "-ovalue". Returns NULL when arg is not this option; sets *missing when it
 * is but has no value. */
static const char *option_value(int argc, char **argv, int *i, const char *long_name,
				const char *short_name, bool *missing)
{
	const char *arg = argv[*i];
	size_t len = strlen(long_name);
	if (strncmp(arg, long_name, len) == 0 && arg[len] == '=')
		return arg + len + 1;
	if (strcmp(arg, long_name) == 0 || (short_name && strcmp(arg, short_name) == 0)) {
		if (*i + 1 >= argc) {
			*missing = true;
			return NULL;
		}
		return argv[++*i];
	}
	if (short_name != NULL && strncmp(arg, short_name, strlen(short_name)) == 0 &&
	    arg[strlen(short_name)] != '\0')
		return arg + strlen(short_name);
	return NULL;
}

/* An option with a value: "--format", "--stack"... Returns -1 when taken,
 * 0 when arg is none of them, or an exit code. */
static int parse_valued_option(int argc, char **argv, int *i, struct options *opt, bool *missing)
{
	const char *value;
	long long n;
	if ((value = option_value(argc, argv, i, "--format", NULL, missing)) != NULL) {
		if (strcmp(value, "text") == 0)
			opt->format = KT_FORMAT_TEXT;
		else if (strcmp(value, "json") == 0)
			opt->format = KT_FORMAT_JSON;
		else if (strcmp(value, "dot") == 0)
			opt->format = KT_FORMAT_DOT;
		else
			return usage_error("unknown format '%s' (text, json or dot)", value);
	} else if ((value = option_value(argc, argv, i, "--error-exitcode", NULL, missing)) != NULL) {
		if (!kt_parse_ll(value, &n) || n < 0 || n > 255)
			return usage_error("bad --error-exitcode '%s' (0 to 255)", value);
		opt->error_exitcode = (int)n;
	} else if ((value = option_value(argc, argv, i, "--suppressions", NULL, missing)) != NULL) {
		struct kt_error err = {{0}};
		if (!kt_suppressions_load(&opt->suppressions, value, &err)) {
			kt_warn("%s", err.msg);
			return EXIT_USAGE;
		}
	} else if ((value = option_value(argc, argv, i, "--default-suppressions", NULL, missing)) !=
		   NULL) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return usage_error("bad --default-suppressions '%s' (yes or no)", value);
		opt->no_default_suppressions = strcmp(value, "no") == 0;
	} else if ((value = option_value(argc, argv, i, "--stack", NULL, missing)) != NULL) {
		if (!kt_parse_ll(value, &n) || n < 0 || n > 1000)
			return usage_error("bad --stack '%s' (a number of frames)", value);
		opt->stack = (int)n;
		opt->stack_set = 1;
	} else if ((value = option_value(argc, argv, i, "--output", "-o", missing)) != NULL) {
		opt->output = value;
	} else if ((value = option_value(argc, argv, i, "--trace-dir", NULL, missing)) != NULL) {
		opt->trace_dir = value;
	} else if ((value = option_value(argc, argv, i, "--stall", NULL, missing)) != NULL) {
		char *end;
		double secs = strtod(value, &end);
		if (end == value || *end != '\0' || !(secs >= 0 && secs <= 86400))
			return usage_error("bad --stall '%s' (seconds, 0 to 86400; 0: off)", value);
		opt->stall_ms = (long)(secs * 1000 + 0.5);
	} else if ((value = option_value(argc, argv, i, "--on-deadlock", NULL, missing)) != NULL) {
		if (strcmp(value, "wait") != 0 && strcmp(value, "kill") != 0)
			return usage_error("unknown --on-deadlock '%s' (wait or kill)", value);
		opt->kill_on_deadlock = strcmp(value, "kill") == 0;
	} else if ((value = option_value(argc, argv, i, "--color", NULL, missing)) != NULL) {
		if (strcmp(value, "auto") == 0)
			opt->color = COLOR_AUTO;
		else if (strcmp(value, "always") == 0)
			opt->color = COLOR_ALWAYS;
		else if (strcmp(value, "never") == 0)
			opt->color = COLOR_NEVER;
		else
			return usage_error("unknown --color '%s' (auto, always or never)", value);
	} else if ((value = option_value(argc, argv, i, "--wait", NULL, missing)) != NULL) {
		if (strcmp(value, "tree") != 0 && strcmp(value, "command") != 0)
			return usage_error("unknown --wait '%s' (tree or command)", value);
		opt->wait_command = strcmp(value, "command") == 0;
	} else {
		return 0;
	}
	return -1;
}

/* The option at argv[*i]. Returns -1 when taken, or an exit code (0
 * after --help/--version). */
static int parse_option(int argc, char **argv, int *i, struct options *opt)
{
	const char *arg = argv[*i];
	bool missing = false;
	if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(arg, "--version") == 0) {
		printf("kcmptrace %s\n", KT_VERSION);
		return 0;
	}
	int rc = parse_valued_option(argc, argv, i, opt, &missing);
	if (rc >= 0 && !missing) {
		if (rc > 0)
			return rc;
		if (strcmp(arg, "--remove-if-done") == 0)
			opt->remove_if_done = true;
		else if (strcmp(arg, "--no-watch") == 0)
			opt->no_watch = true;
		else if (strcmp(arg, "--no-default-suppressions") == 0)
			opt->no_default_suppressions = true;
		else if (strcmp(arg, "--leaks") == 0)
			opt->leaks = opt->leaks_set = true;
		else if (strcmp(arg, "--report-close-minus-one") == 0)
			opt->minus_one = opt->minus_one_set = true;
		else if (strcmp(arg, "--quiet") == 0)
			opt->quiet = true;
		else
			return usage_error("unknown option '%s'", arg);
	}
	if (missing)
		return usage_error("option '%s' needs a value", arg);
	return -1;
}

/* The operands once the options are read (i: the first one after "--",
 * or where the command starts). Returns -1 to go on, or an exit code. */
static int check_operands(int argc, char **argv, int i, bool end_of_options, struct options *opt)
{
	if (opt->quiet && opt->format != KT_FORMAT_TEXT)
		return usage_error("%s", "--quiet is for the text report, not with --format=json or dot");
	if (opt->report) {
		if (end_of_options && i < argc && opt->first_operand == 0)
			opt->first_operand = i++;
		if (end_of_options && i < argc)
			return usage_error("report takes one directory, got also '%s'", argv[i]);
		if (opt->first_operand == 0)
			return usage_error("%s", "report needs a trace directory");
		if (opt->trace_dir != NULL)
			return usage_error("%s", "--trace-dir is for running a command, not for report");
		if (opt->no_watch)
			return usage_error("%s", "--no-watch is for running a command, not for report");
		return -1;
	}
	if (opt->remove_if_done)
		return usage_error("%s", "--remove-if-done is for the report subcommand");
	if (i >= argc)
		return usage_error("%s", "missing command");
	opt->first_operand = i;
	return -1;
}

/* Parse options up to the first operand. Returns -1 to go on, or an exit
 * code (0 after --help/--version). */
static int parse_options(int argc, char **argv, struct options *opt)
{
	int i = 1;
	bool end_of_options = false;
	for (; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			end_of_options = true;
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0') {
			/* The first operand: a command, or "report" (then its own
			 * options may follow). */
			if (!opt->report && strcmp(arg, "report") == 0) {
				opt->report = true;
				continue;
			}
			if (!opt->report)
				break;
			if (opt->first_operand != 0)
				return usage_error("report takes one directory, got also '%s'", arg);
			opt->first_operand = i;
			continue;
		}
		int rc = parse_option(argc, argv, &i, opt);
		if (rc >= 0)
			return rc;
	}
	return check_operands(argc, argv, i, end_of_options, opt);
}

/* FILE, or by default the stream given: stderr when running a command
 * (stdout is the command's), stdout for `report` (there is no program to
 * share it with). */
static FILE *open_output(struct kt_output *o, const char *path, FILE *by_default)
{
	return kt_output_open(o, path, by_default);
}

static bool close_output(struct kt_output *o)
{
	return kt_output_close(o);
}

static bool setting_on(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' && strcmp(v, "0") != 0;
}

/* KCMPTRACE_LEAKS=1, KCMPTRACE_CLOSE_MINUS_ONE=1 and KCMPTRACE_STACK=N act
 * as --leaks, --report-close-minus-one and --stack=N (under plain
 * LD_PRELOAD the shim passes them to `kcmptrace report`). */
static void settings_from_environment(struct options *opt)
{
	if (!opt->minus_one_set)
		opt->minus_one = setting_on("KCMPTRACE_CLOSE_MINUS_ONE");
	if (!opt->leaks_set) {
		const char *v = getenv("KCMPTRACE_LEAKS");
		opt->leaks = v != NULL && *v != '\0' && strcmp(v, "0") != 0;
	}
	if (!opt->stack_set) {
		const char *v = getenv("KCMPTRACE_STACK");
		long long n;
		opt->stack = v != NULL && kt_parse_ll(v, &n) && n >= 0 && n <= 1000 ? (int)n : 1;
	}
}

/* --color: always, never, or (auto) on a terminal unless NO_COLOR is set
 * (no-color.org) or TERM is dumb; never into a file or a pipe. */
static bool use_color(const struct options *opt, FILE *out)
{
	if (opt->format != KT_FORMAT_TEXT || opt->color == COLOR_NEVER)
		return false;
	if (opt->color == COLOR_ALWAYS)
		return true;
	const char *no_color = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	if ((no_color != NULL && *no_color != '\0') || (term != NULL && strcmp(term, "dumb") == 0))
		return false;
	return isatty(fileno(out)) == 1;
}

/* Load, model and render a trace. Returns 0 or EXIT_BAD_TRACE (message
 * printed, with suffix appended to it). Sets *still_running. live_why:
 * why the processes still running are looked at (live.h), NULL for the
 * report's own look. */
static int report_trace(struct options *opt, const char *dir, FILE *out, const char *suffix, bool *still_running,
			size_t *gating, bool say_unrecorded, const char *live_why, size_t *deadlocks)
{
	const char *out_path = opt->output;
	enum kt_format format = opt->format;
	struct kt_error err = {{0}};
	/* What the tables of ended processes kept that their records lack. */
	kt_trace_collect_unrecorded(dir);
	struct kt_trace *trace = kt_trace_load(dir, &err);
	if (trace == NULL) {
		kt_warn("%s%s", err.msg, suffix);
		*still_running = kt_trace_live_tables_alive(dir);
		return EXIT_BAD_TRACE;
	}
	/* Processes still running: their descriptors as they are now. */
	kt_trace_capture_live_why(trace, live_why);
	/* Ended without a snapshot: what their tables last held. */
	kt_trace_capture_left(trace);
	kt_trace_infer_unrecorded(trace);
	struct kt_model *model = kt_model_build(trace);
	settings_from_environment(opt);
	struct kt_findings_options fopt = {.leaks = opt->leaks, .close_minus_one = opt->minus_one};
	model->stack_frames = opt->stack; /* the explanations show the frames too */
	kt_findings_find(model, &fopt);
	if (!opt->no_default_suppressions)
		kt_suppressions_load_defaults(&opt->suppressions);
	opt->no_default_suppressions = true; /* loaded once */
	kt_suppressions_apply(&opt->suppressions, model);
	model->stack_frames = opt->stack;
	model->quiet = opt->quiet;
	model->color = use_color(opt, out);
	*gating = kt_findings_gating(model, opt->leaks);
	if (deadlocks != NULL)
		*deadlocks = kt_model_deadlocks(model);
	int rc = 0;
	if (kt_render(out, model, format) != 0) {
		kt_warn("cannot write report to %s: %s", out_path ? out_path : "stderr",
			strerror(errno));
		rc = EXIT_BAD_TRACE;
	}
	/* Running a command: the run's processes that the report marks. */
	if (say_unrecorded)
		kt_unrecorded_say(model);
	/* One just forked may have a table but no record yet: running too. */
	*still_running = kt_trace_live_tables_alive(dir);
	for (size_t i = 0; i < model->nprocs; i++) {
		const struct kt_mproc *mp = &model->procs[i];
		/* A process that wrote its exit snapshot writes nothing more,
		 * even if it still waits for this very report. */
		/* An untraced one (a set-id daemon) has no shim to remove the
		 * trace at its end: it does not hold the trace. */
		if (!(mp->snap != NULL && mp->snap->head.why == KT_WHY_EXIT) &&
		    mp->untraced_path == NULL && kt_proc_alive(mp->proc->pid, mp->proc->start))
			*still_running = true;
	}
	kt_model_free(model);
	kt_trace_free(trace);
	kt_symbolize_reset();
	return rc;
}

static int run_report(struct options *opt, const char *dir)
{
	struct kt_output output;
	FILE *out = open_output(&output, opt->output, stdout);
	if (out == NULL)
		return EXIT_BAD_TRACE;
	bool running;
	size_t gating = 0;
	int rc = report_trace(opt, dir, out, "", &running, &gating, false, NULL, NULL);
	if (!close_output(&output) && rc == 0)
		rc = EXIT_BAD_TRACE;
	if (rc == 0 && opt->remove_if_done && !running && kt_trace_remove_dir(dir) != 0) {
		kt_warn("cannot remove trace directory %s: %s", dir, strerror(errno));
		rc = EXIT_BAD_TRACE;
	}
	/* With no traced process left, the tables of live/ are of no use. */
	if (rc == 0 && !opt->remove_if_done && !running)
		kt_trace_remove_live(dir);
	if (rc == 0 && gating > 0 && opt->error_exitcode >= 0)
		return opt->error_exitcode;
	return rc;
}

/* A report asked for with SIGUSR1 while the command runs. */
struct request {
	struct options *opt;
	const char *dir;
	unsigned count;
	size_t deadlocks; /* found at stalls (report_on_stall) */
};

/* The tree as it is now, written to FILE.N (the Nth request) next to
 * -o FILE, else to stderr; the run goes on. */
static void report_on_request(void *ctx)
{
	struct request *q = ctx;
	q->count++;
	char *path = q->opt->output ? kt_xasprintf("%s.%u", q->opt->output, q->count) : NULL;
	struct kt_output request_output;
	FILE *out = open_output(&request_output, path, stderr);
	if (out != NULL) {
		bool running;
		size_t gating;
		const char *output = q->opt->output;
		q->opt->output = path;
		report_trace(q->opt, q->dir, out, "", &running, &gating, false, "request", NULL);
		q->opt->output = output;
		bool written = close_output(&request_output);
		if (path != NULL && written)
			kt_warn("report of the running tree written to %s", path);
	}
	free(path);
}

/* The tree has stalled (stall.h): a live snapshot of it, analysed. Only a
 * proven deadlock is written (to stderr, or FILE.deadlock next to -o
 * FILE); a stall that is not one is never printed mid-run. Returns
 * whether there was one. */
static bool report_on_stall(void *ctx)
{
	struct request *q = ctx;
	char *text = NULL;
	size_t len = 0, deadlocks = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem == NULL)
		return false;
	bool running;
	size_t gating;
	report_trace(q->opt, q->dir, mem, "", &running, &gating, false, "stall", &deadlocks);
	fclose(mem);
	if (deadlocks > 0) {
		char *path = q->opt->output ? kt_xasprintf("%s.deadlock", q->opt->output) : NULL;
		struct kt_output output;
		FILE *out = open_output(&output, path, stderr);
		bool written = out != NULL && fwrite(text, 1, len, out) == len;
		if (out != NULL && !close_output(&output))
			written = false;
		if (!written)
			kt_warn("cannot write the deadlock report to %s", path ? path : "stderr");
		else if (path != NULL)
			kt_warn("deadlock: report of the stuck tree written to %s", path);
		free(path);
	}
	free(text);
	q->deadlocks += deadlocks;
	return deadlocks > 0;
}

static int run_command(struct options *opt, char **command)
{
	int exit_code = 1;
	char *shim = kt_find_shim();
	if (shim == NULL)
		return EXIT_BAD_TRACE;
	char *resolved = kt_resolve_command(command[0], &exit_code);
	if (resolved == NULL) {
		free(shim);
		return exit_code;
	}
	/* Checked now (a command that cannot report does not run), written
	 * at the end, whole (output.c). */
	struct kt_output output;
	FILE *out = open_output(&output, opt->output, stderr);
	if (out == NULL) {
		free(resolved);
		free(shim);
		return EXIT_BAD_TRACE;
	}
	/* --stack=N: the shim records that many callers of each creating call;
	 * all it can keep when a suppression rule names a frame (the report
	 * still shows N). */
	settings_from_environment(opt);
	bool from_user = opt->stack_set;
	opt->stack_set = 1; /* what the report shows: not the variable set below */
	int recorded = opt->stack;
	if (kt_suppressions_need_callers(&opt->suppressions) && recorded < KT_STACK_MAX + 1)
		recorded = KT_STACK_MAX + 1;
	if (from_user || recorded != opt->stack) {
		char frames[16];
		snprintf(frames, sizeof frames, "%d", recorded);
		setenv("KCMPTRACE_STACK", frames, 1);
	}
	struct kt_launch launch = {.trace_dir_option = opt->trace_dir, .argv = command,
				   .wait_tree = !opt->wait_command, .watch = !opt->no_watch};
	struct request request = {.opt = opt};
	launch.on_request = report_on_request;
	launch.request_ctx = &request;
	launch.stall_ms = opt->stall_ms;
	launch.on_stall = report_on_stall;
	launch.kill_on_deadlock = opt->kill_on_deadlock;
	if (!kt_prepare_trace_dir(&launch)) {
		close_output(&output);
		free(resolved);
		free(shim);
		return EXIT_BAD_TRACE;
	}
	request.dir = launch.trace_dir;
	bool started = kt_run_traced(&launch, resolved, shim);
	bool running = false;
	size_t gating = 0;
	exit_code = launch.exit_code;
	free(resolved);
	free(shim);
	int rc = 0;
	/* A temporary trace that fails to load is kept for inspection, unless
	 * there is nothing in it to inspect. */
	bool keep_on_error = false;
	if (started) {
		keep_on_error = launch.temporary && kt_trace_dir_has_records(launch.trace_dir) > 0;
		char *suffix = keep_on_error ? kt_xasprintf(" (trace kept in %s)", launch.trace_dir)
					     : kt_xstrdup("");
		rc = report_trace(opt, launch.trace_dir, out, suffix, &running, &gating, true, NULL, NULL);
		free(suffix);
	}
	if (!close_output(&output) && rc == 0)
		rc = EXIT_BAD_TRACE;
	/* Processes still running (--wait=command) need the trace until they
	 * end; the last of them removes it, as after a plain LD_PRELOAD run
	 * (the shim's "reported" marker). */
	if (started && launch.temporary && running) {
		kt_trace_mark_reported(launch.trace_dir);
		kt_warn("traced processes are still running; %s is removed when the last of them ends",
			launch.trace_dir);
	}
	else if (started && !launch.temporary && !running)
		kt_trace_remove_live(launch.trace_dir);
	else if (launch.temporary && rc != 0 && keep_on_error)
		kt_trace_mark_kept(launch.trace_dir); /* said kept: never judged stale */
	else if (launch.temporary &&
	    kt_trace_remove_dir(launch.trace_dir) != 0)
		kt_warn("cannot remove trace directory %s: %s", launch.trace_dir, strerror(errno));
	bool launch_ended_deadlock = launch.deadlock_killed;
	kt_launch_free(&launch);
	/* The command's status wins; a bad trace of a successful command still
	 * fails so scripts notice. */
	if (rc != 0 && exit_code == 0)
		return rc;
	/* valgrind's convention: findings make the run fail with N; a
	 * deadlock found while the tree ran counts. */
	if (rc == 0 && (gating > 0 || request.deadlocks > 0) && opt->error_exitcode >= 0)
		return opt->error_exitcode;
	if (launch_ended_deadlock)
		return 128 + 15;
	return exit_code;
}

/* Model, findings and render of a trace already loaded. Returns 0 or
 * EXIT_BAD_TRACE; *gating counts the findings a gate counts. */
static int render_loaded(struct options *opt, struct kt_trace *trace, FILE *out, size_t *gating)
{
	struct kt_model *model = kt_model_build(trace);
	settings_from_environment(opt);
	struct kt_findings_options fopt = {.leaks = opt->leaks};
	kt_findings_find(model, &fopt);
	if (!opt->no_default_suppressions)
		kt_suppressions_load_defaults(&opt->suppressions);
	opt->no_default_suppressions = true;
	kt_suppressions_apply(&opt->suppressions, model);
	model->stack_frames = opt->stack;
	model->quiet = opt->quiet;
	model->color = use_color(opt, out);
	*gating = kt_findings_gating(model, opt->leaks);
	int rc = 0;
	if (kt_render(out, model, opt->format) != 0) {
		kt_warn("cannot write report to %s: %s", opt->output ? opt->output : "stdout",
			strerror(errno));
		rc = EXIT_BAD_TRACE;
	}
	kt_model_free(model);
	kt_symbolize_reset();
	return rc;
}

/* kcmptrace snapshot [--tree] [OPTIONS] PID...: argv[0] is "snapshot". */
static int run_snapshot(int argc, char **argv)
{
	struct options opt = {.format = KT_FORMAT_TEXT, .error_exitcode = -1, .stack = 1,
			       .stall_ms = 5000};
	bool tree = false, end_of_options = false;
	int *pids = kt_xcalloc((size_t)argc + 1, sizeof *pids), rc = -1;
	size_t npids = 0;
	for (int i = 1; i < argc && rc < 0; i++) {
		long long pid;
		if (!end_of_options && strcmp(argv[i], "--") == 0)
			end_of_options = true;
		else if (!end_of_options && strcmp(argv[i], "--tree") == 0)
			tree = true;
		else if (!end_of_options && argv[i][0] == '-' && argv[i][1] != '\0')
			rc = parse_option(argc, argv, &i, &opt);
		else if (kt_parse_ll(argv[i], &pid) && pid > 0 && pid <= 0x7fffffff)
			pids[npids++] = (int)pid;
		else
			rc = usage_error("snapshot takes process ids, got '%s'", argv[i]);
	}
	if (rc < 0 && npids == 0)
		rc = usage_error("%s", "snapshot needs at least one process id");
	if (rc < 0 && (opt.trace_dir != NULL || opt.no_watch || opt.remove_if_done))
		rc = usage_error("%s", "--trace-dir, --no-watch and --remove-if-done are not for snapshot");
	if (rc < 0 && opt.quiet && opt.format != KT_FORMAT_TEXT)
		rc = usage_error("%s", "--quiet is for the text report, not with --format=json or dot");
	struct kt_error err = {{0}};
	struct kt_trace *trace = rc < 0 ? kt_snapshot_take(pids, npids, tree, &err) : NULL;
	if (rc < 0 && trace == NULL) {
		kt_warn("%s", err.msg);
		rc = EXIT_BAD_TRACE;
	}
	struct kt_output output;
	FILE *out = rc < 0 ? open_output(&output, opt.output, stdout) : NULL;
	if (trace != NULL && out == NULL)
		rc = EXIT_BAD_TRACE;
	size_t gating = 0;
	if (rc < 0) {
		rc = render_loaded(&opt, trace, out, &gating);
		if (!close_output(&output) && rc == 0)
			rc = EXIT_BAD_TRACE;
		if (rc == 0 && gating > 0 && opt.error_exitcode >= 0)
			rc = opt.error_exitcode;
	}
	if (trace != NULL)
		kt_trace_free(trace);
	kt_suppressions_free(&opt.suppressions);
	free(pids);
	return rc < 0 ? 0 : rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "snapshot") == 0)
		return run_snapshot(argc - 1, argv + 1);
	struct options opt = {.format = KT_FORMAT_TEXT, .error_exitcode = -1, .stack = 1,
			       .stall_ms = 5000};
	int rc = parse_options(argc, argv, &opt);
	if (rc < 0)
		rc = opt.report ? run_report(&opt, argv[opt.first_operand])
				: run_command(&opt, argv + opt.first_operand);
	kt_suppressions_free(&opt.suppressions);
	return rc;
}
