#ifndef KT_STALE_H
#define KT_STALE_H

/* Remove the temporary traces (kcmptrace.XXXXXX in the directory
 * temporary traces go to) that this user's killed runs left behind: a
 * directory of ours, untouched for a minute, not kept on purpose, none of
 * whose processes (launcher included) still runs. Silent: a trace that
 * cannot be removed stays as it was. */
void kt_clean_stale_traces(void);

#endif
