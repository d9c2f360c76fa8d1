/* Filling struct ipr_err in one place so every parser reports failures the same way. */
#include "err.h"

int ipr_fail(struct ipr_err *err, int code, size_t column, const char *reason)
{
	if (err) {
		err->reason = reason;
		err->column = column;
	}
	return -code;
}
