/*
 * reaper.h - header and body deadlines for HTTP connections (libmicrohttpd has none).
 *
 * libmicrohttpd's own timeout is an idle timer that every received byte
 * resets, so a client sending a byte a second holds its connection forever.
 * The reaper keeps a deadline per connection instead: the headers must be
 * complete within header_ms of the connection (or of the end of the previous
 * response plus idle_ms on a kept-alive connection), the body within body_ms
 * of the headers.  A connection past its deadline is shut down (never
 * closed: libmicrohttpd sees the end of the stream, closes it and cleans up
 * itself), counted and reported (overload.h).  While the application handles
 * a request (a suspended wait included) there is no deadline: its own
 * timeouts apply.
 *
 * Connections are tracked from libmicrohttpd's NOTIFY_CONNECTION callback
 * and forgotten there too, before their socket is closed; the reaper only
 * touches a socket under the same mutex, so it can never shut down a reused
 * descriptor.  A ticker thread sweeps every REAPER_TICK_MS; tests drive the
 * sweep themselves with their own clock and shutdown function.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_REAPER_H
#define TASKWIRE_REAPER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#define REAPER_TICK_MS 250 /* sweep period of the ticker thread */

/* Where a connection is, and so which deadline applies. */
enum reaper_phase {
    REAPER_HEADERS, /* connected, the request's headers not complete yet */
    REAPER_BODY,    /* headers complete, body not complete yet */
    REAPER_BUSY,    /* the application has the request: no deadline */
    REAPER_IDLE,    /* kept alive after a response: the next headers are due */
};

/* The deadlines. */
struct reaper_cfg {
    int64_t header_ms; /* connection (or idle allowance) to complete headers */
    int64_t body_ms;   /* complete headers to complete body */
    int64_t idle_ms;   /* after a response, before the next request's header_ms starts */
};

/* Shuts a connection's socket down (shutdown(2) unless a test says otherwise). */
typedef void reaper_shut_fn(int fd);

/* One tracked connection (private to reaper.c; tests hold pointers). */
struct reaper_conn;
struct reaper;

/* A reaper with deadlines 'cfg' (copied), shutting sockets with 'shut' (NULL: shutdown(2)),
 * with its ticker thread when 'ticker'; NULL when out of resources. */
struct reaper *reaper_new(const struct reaper_cfg *cfg, reaper_shut_fn *shut, bool ticker);
/* Stop the ticker and free; connections must have been forgotten.  NULL is a no-op. */
void reaper_free(struct reaper *r);
/* Track socket 'fd' connected at now_ms (phase REAPER_HEADERS); NULL when out of memory. */
struct reaper_conn *reaper_track(struct reaper *r, int fd, int64_t now_ms);
/* Move 'c' to phase 'p' at now_ms (its deadline follows). */
void reaper_set_phase(struct reaper *r, struct reaper_conn *c, enum reaper_phase p,
                      int64_t now_ms);
/* Stop tracking 'c' (before its socket is closed) and free it; NULL is a no-op. */
void reaper_forget(struct reaper *r, struct reaper_conn *c);
/* Shut down every connection past its deadline at now_ms (each once); how many. */
int reaper_sweep(struct reaper *r, int64_t now_ms);
/* The deadline of phase 'p' entered at now_ms under 'cfg' (0: none).  Pure. */
int64_t reaper_deadline(const struct reaper_cfg *cfg, enum reaper_phase p, int64_t now_ms);

/* libmicrohttpd's NOTIFY_CONNECTION callback ('cls': the reaper). */
void reaper_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode code);
/* Move the connection of a request to phase 'p' now (from the access handler). */
void reaper_mark(struct reaper *r, struct MHD_Connection *conn, enum reaper_phase p);

#endif
