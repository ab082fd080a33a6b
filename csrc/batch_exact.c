/* batch_exact.c -- batch replay's loops over points with the exact lanes
 * forms of the kernels (kernels.h): the row functions batch.c falls back to
 * when an instruction's points keep leaving a kernel's ordinary range, and
 * the n-ary ops. See batch_rows.h. */
#define PYAD_LANES 1
#define PYAD_LANES_EXACT 1
#include "platform.h"
#include "program.h"

#define PYAD_ROWS_TABLE pyad_rows_exact
#include "batch_rows.h"
