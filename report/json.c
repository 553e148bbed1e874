#include "json.h"

#include <string.h>

size_t kt_utf8_sequence_length(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min_second = 0x80, max_second = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			min_second = 0xa0; /* no overlongs */
		if (c == 0xed)
			max_second = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			min_second = 0x90;
		if (c == 0xf4)
			max_second = 0x8f; /* <= U+10FFFF */
	} else
		return 0;
	if (avail < len || s[1] < min_second || s[1] > max_second)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

void kt_json_string_n(FILE *out, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', out);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			i++;
		} else if (c == '\n') {
			fputs("\\n", out);
			i++;
		} else if (c == '\t') {
			fputs("\\t", out);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, out);
			i++;
		} else {
			size_t n = kt_utf8_sequence_length(s + i, len - i);
			if (n == 0) {
				fputs("\\ufffd", out); /* one replacement per bad byte */
				i++;
			} else {
				fwrite(s + i, 1, n, out);
				i += n;
			}
		}
	}
	fputc('"', out);
}

void kt_json_string(FILE *out, const char *s)
{
	if (s == NULL)
		fputs("null", out);
	else
		kt_json_string_n(out, s, strlen(s));
}
