/* Colours of the text report (--color, render_text.h): SGR sequences around
 * headings, severities, finding kinds and program names, as compilers
 * colour their diagnostics. They take no column (kt_utf8_columns). */
#include <string.h>

#include "render_text.h"

static const char *const style_sgr[] = {
	[KT_STYLE_HEADING] = "\033[1m",
	[KT_STYLE_ERROR] = "\033[1;31m",
	[KT_STYLE_WARNING] = "\033[1;35m",
	[KT_STYLE_INFO] = "\033[1;36m",
	[KT_STYLE_KIND] = "\033[1m",
	[KT_STYLE_PROGRAM] = "\033[32m",
};

void kt_text_style(struct kt_text_out *o, enum kt_text_style style)
{
	if (o->color)
		kt_str_add(&o->line, style_sgr[style], strlen(style_sgr[style]));
}

void kt_text_style_end(struct kt_text_out *o)
{
	if (o->color)
		kt_str_add(&o->line, "\033[m", 3);
}

enum kt_text_style kt_text_severity_style(enum kt_severity severity)
{
	switch (severity) {
	case KT_SEVERITY_ERROR:
		return KT_STYLE_ERROR;
	case KT_SEVERITY_WARNING:
		return KT_STYLE_WARNING;
	default:
		return KT_STYLE_INFO;
	}
}

void kt_text_styled(struct kt_text_out *o, enum kt_text_style style, const char *text)
{
	kt_text_style(o, style);
	kt_str_add(&o->line, text, strlen(text));
	kt_text_style_end(o);
}
