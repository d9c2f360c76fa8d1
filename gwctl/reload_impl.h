/* What the reload module's files share: the reloader and its waiters (reload.h). */
#ifndef GWCTL_RELOAD_IMPL_H
#define GWCTL_RELOAD_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "reload.h"
#include "service.h"

struct waiters {
	size_t count;
	struct reload_waiter list[RELOAD_WAITERS_MAX];
	bool by_daemon;	      /* the daemon asked too: its outcome goes to the log */
	bool config_reloaded; /* the configuration was re-read for it */
};

struct reloader {
	int event_fd;
	pthread_t thread;
	bool running;  /* the job is on its thread */
	bool finished; /* applied (or nothing to apply): to be answered after the batch */
	bool wrote;    /* the job wrote in the batch being processed */
	struct publish_job *job;
	struct waiters now;  /* of the job under way */
	bool again;	     /* asked for while a job was under way: another one follows */
	struct waiters next; /* of the one that follows */
	/* the daemon's own reloads, started with the next batch (reloader_ask) */
	bool asked;	   /* the published sources */
	bool asked_config; /* the configuration first */
	bool retry;	   /* a reload's commit failed: asked again at the next tick */
};

/* Starts a job for the waiters in r->now. */
IPR_MUST_CHECK int reloader_start(struct reloader *r, struct service *svc);

/*
 * Re-reads the configuration file and applies what can change while running; msg gets a
 * one-line summary or the problem. Returns 0, or -EINVAL (the running settings stay).
 */
IPR_MUST_CHECK int reload_config(struct service *svc, char *msg, size_t msg_size);

#endif
