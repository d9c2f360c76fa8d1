/* The TXT lookup beside each A/AAAA question, and where its answer waits (txtlookup.c). */
#ifndef TXTLOOKUP_H
#define TXTLOOKUP_H

#include <stdbool.h>

#include "module.h"

struct query_info;

/* A client's A/AAAA question begins: the TXT lookup starts beside it, unless its answer is kept. */
void txtlookup_start(struct module_qstate *qstate, struct ipref_thread *thread);

/* A TXT sub-query the module attached and started (newq, NULL when it joined one running). */
void txtlookup_mark(struct module_qstate *newq);

/* A question without the module's state is answered: one of its TXT lookups keeps its answer. */
void txtlookup_done(struct module_qstate *qstate, struct ipref_thread *thread);

/*
 * The question's native answer is back: its TXT answer taken into iq from the thread's table or
 * the message cache (true), or not there (false: attach the lookup and wait).
 */
bool txtlookup_take_kept(struct module_qstate *qstate, struct ipref_query *iq,
			 struct ipref_thread *thread);

/* The TXT lookup's answer (qinfo, rcode, msg), copied into the super's region. */
void txtlookup_take(struct module_qstate *super, struct ipref_query *iq,
		    struct ipref_thread *thread, struct query_info *qinfo, int rcode,
		    struct dns_msg *msg);

#endif
