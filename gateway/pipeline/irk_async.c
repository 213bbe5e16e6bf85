/* irk_async.c - worker threads for IRK searches, parked reports per address. */
#include "irk_async.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct parked {
	struct adv_report r;
	uint8_t data[IRK_ASYNC_DATA_MAX];
};

/* One address in flight. used, n_parked and q belong to the loop thread;
 * state, key and blocks change under the lock. */
struct pending {
	uint8_t addr[6];
	bool used;
	enum { QUEUED, SEARCHING, DONE } state;
	int64_t key;
	uint64_t blocks;
	uint32_t n_parked;
	struct parked q[IRK_ASYNC_PARKED];
};

struct irk_async {
	pthread_mutex_t lock;
	pthread_cond_t work;  /* a job was queued, or stop */
	pthread_cond_t done;  /* a job finished */
	pthread_t threads[IRK_ASYNC_THREADS_MAX];
	unsigned n_threads;
	bool stop;
	int efd;

	struct irk_resolver *r;
	irk_async_replay_fn replay;
	void *ctx;

	struct pending slot[IRK_ASYNC_PENDING];
	uint32_t jobs[IRK_ASYNC_PENDING]; /* ring of slot indexes waiting for a worker */
	uint32_t job_head, job_n;
	uint32_t in_flight;               /* queued or searching */
	atomic_uint finished;             /* done, not yet collected */
	struct irk_async_stats stats;
};

static void *worker(void *arg)
{
	struct irk_async *a = arg;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct pending *p;
		uint64_t blocks = 0, one = 1;
		int64_t key;

		while (!a->stop && !a->job_n)
			pthread_cond_wait(&a->work, &a->lock);
		if (a->stop)
			break;
		p = &a->slot[a->jobs[a->job_head]];
		a->job_head = (a->job_head + 1) % IRK_ASYNC_PENDING;
		a->job_n--;
		p->state = SEARCHING;
		pthread_mutex_unlock(&a->lock);

		key = irk_resolver_search(a->r, p->addr, &blocks);

		pthread_mutex_lock(&a->lock);
		p->key = key;
		p->blocks = blocks;
		p->state = DONE;
		a->in_flight--;
		atomic_fetch_add_explicit(&a->finished, 1, memory_order_release);
		pthread_cond_broadcast(&a->done);
		/* Only a wake-up: the counter cannot overflow in practice, and
		 * the loop counts results itself. */
		ssize_t w = write(a->efd, &one, sizeof(one));
		(void)w;
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

struct irk_async *irk_async_new(unsigned threads, irk_async_replay_fn replay, void *ctx)
{
	struct irk_async *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (threads < 1 || threads > IRK_ASYNC_THREADS_MAX) {
		free(a);
		return NULL;
	}
	a->replay = replay;
	a->ctx = ctx;
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0 || pthread_mutex_init(&a->lock, NULL) || pthread_cond_init(&a->work, NULL) ||
	    pthread_cond_init(&a->done, NULL)) {
		if (a->efd >= 0)
			close(a->efd);
		free(a);
		return NULL;
	}
	for (; a->n_threads < threads; a->n_threads++)
		if (pthread_create(&a->threads[a->n_threads], NULL, worker, a)) {
			irk_async_free(a);
			return NULL;
		}
	return a;
}

void irk_async_free(struct irk_async *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_broadcast(&a->work);
	pthread_mutex_unlock(&a->lock);
	for (unsigned i = 0; i < a->n_threads; i++)
		pthread_join(a->threads[i], NULL);
	pthread_cond_destroy(&a->work);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	close(a->efd);
	free(a);
}

void irk_async_set_resolver(struct irk_async *a, struct irk_resolver *r)
{
	pthread_mutex_lock(&a->lock);
	a->r = r; /* no search is in flight: the caller drained */
	pthread_mutex_unlock(&a->lock);
}

static void park(struct irk_async *a, struct pending *p, const struct adv_report *r)
{
	struct parked *k = &p->q[p->n_parked++];

	k->r = *r;
	if (r->data_len)
		memcpy(k->data, r->data, r->data_len);
	k->r.data = r->data_len ? k->data : NULL;
	a->stats.parked++;
}

/* Store one finished slot's result and replay its reports. The slot is
 * freed before the replay: a replayed report finds its address resolved. */
static void finish(struct irk_async *a, struct pending *p)
{
	uint32_t n = p->n_parked;

	irk_resolver_store(a->r, p->addr, p->key, p->blocks);
	p->used = false;
	p->n_parked = 0;
	for (uint32_t i = 0; i < n; i++)
		a->replay(a->ctx, &p->q[i].r);
}

void irk_async_collect(struct irk_async *a)
{
	uint64_t v;
	ssize_t rd;

	if (!atomic_load_explicit(&a->finished, memory_order_acquire))
		return;
	rd = read(a->efd, &v, sizeof(v)); /* re-arm; the count is kept below */
	(void)rd;
	for (uint32_t i = 0; i < IRK_ASYNC_PENDING; i++) {
		struct pending *p = &a->slot[i];
		bool done;

		if (!p->used)
			continue;
		pthread_mutex_lock(&a->lock);
		done = p->state == DONE;
		pthread_mutex_unlock(&a->lock);
		if (!done)
			continue;
		atomic_fetch_sub_explicit(&a->finished, 1, memory_order_relaxed);
		finish(a, p);
	}
}

/* Wait until slot p's search is done, then collect everything finished. */
static void wait_for(struct irk_async *a, struct pending *p)
{
	pthread_mutex_lock(&a->lock);
	while (p->state != DONE)
		pthread_cond_wait(&a->done, &a->lock);
	pthread_mutex_unlock(&a->lock);
	a->stats.waited++;
	irk_async_collect(a);
}

void irk_async_drain(struct irk_async *a)
{
	pthread_mutex_lock(&a->lock);
	while (a->in_flight)
		pthread_cond_wait(&a->done, &a->lock);
	pthread_mutex_unlock(&a->lock);
	irk_async_collect(a);
}

bool irk_async_park(struct irk_async *a, const struct adv_report *r)
{
	struct pending *p = NULL, *free_slot = NULL;

	if (!a->r || !irk_is_rpa(r->addr, r->addr_type) || irk_resolver_known(a->r, r->addr))
		return false;
	for (uint32_t i = 0; i < IRK_ASYNC_PENDING; i++) {
		if (a->slot[i].used && !memcmp(a->slot[i].addr, r->addr, 6)) {
			p = &a->slot[i];
			break;
		}
		if (!a->slot[i].used && !free_slot)
			free_slot = &a->slot[i];
	}
	if (p) {
		if (p->n_parked < IRK_ASYNC_PARKED && r->data_len <= IRK_ASYNC_DATA_MAX) {
			park(a, p, r);
			return true;
		}
		wait_for(a, p); /* replays what was parked, so this one comes after */
		return false;
	}
	if (!free_slot) {
		a->stats.inline_searches++;
		return false; /* irk_resolve() searches inline */
	}
	if (r->data_len > IRK_ASYNC_DATA_MAX)
		return false; /* nothing of this address is parked: inline keeps the order */
	p = free_slot;
	memcpy(p->addr, r->addr, 6);
	p->used = true;
	p->n_parked = 0;
	park(a, p, r);
	pthread_mutex_lock(&a->lock);
	p->state = QUEUED;
	a->jobs[(a->job_head + a->job_n) % IRK_ASYNC_PENDING] = (uint32_t)(p - a->slot);
	a->job_n++;
	a->in_flight++;
	pthread_cond_signal(&a->work);
	pthread_mutex_unlock(&a->lock);
	a->stats.searches++;
	return true;
}

int irk_async_fd(const struct irk_async *a)
{
	return a->efd;
}

const struct irk_async_stats *irk_async_get_stats(const struct irk_async *a)
{
	return &a->stats;
}
