/* Where temporary trace directories go, for the launcher and for the first
 * process of a plain LD_PRELOAD run alike. */
#ifndef KT_TRACEDIR_H
#define KT_TRACEDIR_H

/* $TMPDIR when set; else /dev/shm when usable (records are small, and a
 * file created on a disk file system costs each traced process far more
 * than one in memory); else /tmp. */
const char *kt_trace_tmp_parent(void);

#endif
