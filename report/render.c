/* Rendering a model in the format asked for (render.h). */
#include "render.h"

int kt_render(FILE *out, const struct kt_model *model, enum kt_format format)
{
	if (format == KT_FORMAT_JSON)
		kt_render_json(out, model);
	else if (format == KT_FORMAT_DOT)
		kt_render_dot(out, model);
	else
		kt_render_text(out, model);
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}
