/* Notes of a trace ("note" records: what a process could not record or
 * compare, written by the shim or by the report itself) told for people:
 * what happened, what it means for the report, what the user can do. The
 * records keep a short form (an errno as a number); no report shows it. */
#ifndef KT_NOTES_H
#define KT_NOTES_H

struct kt_note_words {
	char *what;          /* what happened, one sentence without its period */
	const char *meaning; /* what it means for the report, or NULL */
	const char *advice;  /* what the user can do, or NULL */
	char *kind;          /* notes of one kind share meaning and advice */
};

/* Fills w for a note's text; a note this version does not know is told as
 * it is, its kind the text itself. Free with kt_note_words_free. */
void kt_note_words(const char *note, struct kt_note_words *w);
void kt_note_words_free(struct kt_note_words *w);

/* What happened, what it means and what to do in one paragraph; caller
 * frees. */
char *kt_note_paragraph(const char *note);

/* An errno value in words: "EBADF (Bad file descriptor)". Returns buf. */
const char *kt_errno_words(int err, char *buf, unsigned long len);

#endif
