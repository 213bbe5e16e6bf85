/*
 * btsnoop.c - btsnoop reader and writer (see btsnoop.h).
 */
#include "btsnoop.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "h4.h"

static const uint8_t btsnoop_magic[8] = { 'b', 't', 's', 'n', 'o', 'o', 'p', 0 };

static uint32_t get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64be(const uint8_t *p)
{
	return (uint64_t)get32be(p) << 32 | get32be(p + 4);
}

static void put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64be(uint8_t *p, uint64_t v)
{
	put32be(p, (uint32_t)(v >> 32));
	put32be(p + 4, (uint32_t)v);
}

const char *btsnoop_strerror(int err)
{
	switch (err) {
	case 0:                   return "success";
	case BTSNOOP_E_IO:        return "I/O error";
	case BTSNOOP_E_MAGIC:     return "not a btsnoop file";
	case BTSNOOP_E_VERSION:   return "unsupported btsnoop version";
	case BTSNOOP_E_DATALINK:  return "unsupported btsnoop datalink";
	case BTSNOOP_E_TRUNCATED: return "truncated btsnoop file";
	case BTSNOOP_E_LENGTH:    return "invalid btsnoop record length";
	case BTSNOOP_E_ARG:       return "invalid btsnoop record";
	default:                  return "unknown btsnoop error";
	}
}

static int reader_error(struct btsnoop_reader *r, int err, const char *detail)
{
	r->error = err;
	if (detail && *detail)
		snprintf(r->msg, sizeof(r->msg), "%s: %s", btsnoop_strerror(err), detail);
	else
		snprintf(r->msg, sizeof(r->msg), "%s", btsnoop_strerror(err));
	return err;
}

/*
 * A file is read a block at a time and parsed where it lies: one fread per
 * ~2,000 advertising reports and no copy of each record, instead of two
 * freads (header, body) and a copy per record. Only the unread tail of a
 * block moves to the front before the next block is appended. A pipe or a
 * terminal is read no further than the record needs, so that a live stream
 * is not held back until a whole block has arrived.
 */
static const uint8_t *take_file(struct btsnoop_reader *r, size_t n, size_t *got)
{
	size_t avail = r->blk_end - r->blk_pos;

	if (avail < n) {
		if (r->blk_pos) {
			memmove(r->buf, r->buf + r->blk_pos, avail);
			r->blk_pos = 0;
			r->blk_end = avail;
		}
		r->blk_end += fread(r->buf + avail, 1,
				    r->stream ? n - avail : sizeof(r->buf) - avail, r->f);
		avail = r->blk_end;
		if (avail < n) {
			r->pos += avail;
			r->blk_pos = r->blk_end;
			*got = avail;
			return NULL;
		}
	}
	r->blk_pos += n;
	r->pos += n;
	*got = n;
	return r->buf + r->blk_pos - n;
}

/*
 * Get exactly n bytes (n <= BTSNOOP_MAX_RECORD) at the read position.
 * Returns a pointer to them, valid until the next call, or NULL with *got
 * set to how many there were (0 = clean end).
 */
static inline const uint8_t *take(struct btsnoop_reader *r, size_t n, size_t *got)
{
	if (r->f) {
		if (r->blk_end - r->blk_pos >= n) {
			r->blk_pos += n;
			r->pos += n;
			*got = n;
			return r->buf + r->blk_pos - n;
		}
		return take_file(r, n, got);
	}
	if (r->mem_len - r->pos < n) {
		*got = r->mem_len - r->pos;
		r->pos = r->mem_len;
		return NULL;
	}
	*got = n;
	r->pos += n;
	return r->mem + r->pos - n;
}

static int read_header(struct btsnoop_reader *r)
{
	const uint8_t *h;
	uint32_t version;
	char detail[64];
	size_t got;

	h = take(r, BTSNOOP_HEADER_LEN, &got);
	if (!h) {
		if (r->f && ferror(r->f))
			return reader_error(r, BTSNOOP_E_IO, strerror(errno));
		/* A short file that does not even start like btsnoop is not one. */
		if (got == 0)
			return reader_error(r, BTSNOOP_E_TRUNCATED, "empty file");
		if (got < sizeof(btsnoop_magic) &&
		    memcmp(r->f ? r->buf : r->mem, btsnoop_magic, got) != 0)
			return reader_error(r, BTSNOOP_E_MAGIC, NULL);
		snprintf(detail, sizeof(detail), "header has %zu of 16 bytes", got);
		return reader_error(r, BTSNOOP_E_TRUNCATED, detail);
	}
	if (memcmp(h, btsnoop_magic, sizeof(btsnoop_magic)) != 0)
		return reader_error(r, BTSNOOP_E_MAGIC, NULL);
	version = get32be(h + 8);
	if (version != 1) {
		snprintf(detail, sizeof(detail), "version %" PRIu32, version);
		return reader_error(r, BTSNOOP_E_VERSION, detail);
	}
	r->datalink = get32be(h + 12);
	if (r->datalink != BTSNOOP_DATALINK_H4 && r->datalink != BTSNOOP_DATALINK_MONITOR) {
		snprintf(detail, sizeof(detail), "datalink %" PRIu32 " (want 1002 or 2001)",
			 r->datalink);
		return reader_error(r, BTSNOOP_E_DATALINK, detail);
	}
	return 0;
}

int btsnoop_reader_open_file(struct btsnoop_reader *r, FILE *f)
{
	struct stat st;
	int fd = fileno(f);

	memset(r, 0, offsetof(struct btsnoop_reader, buf));
	r->f = f;
	/* A stream without a descriptor (fmemopen) has all its bytes at hand. */
	r->stream = fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
	return read_header(r);
}

int btsnoop_reader_open_mem(struct btsnoop_reader *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, offsetof(struct btsnoop_reader, buf));
	r->mem = buf;
	r->mem_len = buf ? len : 0;
	return read_header(r);
}

const char *btsnoop_reader_message(const struct btsnoop_reader *r)
{
	return r->msg;
}

/* Monitor opcode -> H4 type and direction; false for records without an
 * HCI packet. */
static bool monitor_packet(uint16_t op, uint8_t *type, bool *received)
{
	switch (op) {
	case BTSNOOP_MON_COMMAND_PKT: *type = H4_CMD; *received = false; return true;
	case BTSNOOP_MON_EVENT_PKT:   *type = H4_EVENT; *received = true; return true;
	case BTSNOOP_MON_ACL_TX_PKT:  *type = H4_ACL; *received = false; return true;
	case BTSNOOP_MON_ACL_RX_PKT:  *type = H4_ACL; *received = true; return true;
	case BTSNOOP_MON_SCO_TX_PKT:  *type = H4_SCO; *received = false; return true;
	case BTSNOOP_MON_SCO_RX_PKT:  *type = H4_SCO; *received = true; return true;
	case BTSNOOP_MON_ISO_TX_PKT:  *type = H4_ISO; *received = false; return true;
	case BTSNOOP_MON_ISO_RX_PKT:  *type = H4_ISO; *received = true; return true;
	default:                      return false;
	}
}

enum record_fault { NO_HEADER, BAD_LENGTH, NO_BODY };

/* The record at byte `start` did not arrive whole or has absurd lengths:
 * say why (0 for a clean end). Kept apart from btsnoop_reader_next() so
 * that its loop stays small. */
static __attribute__((noinline, cold)) int record_error(struct btsnoop_reader *r,
							 enum record_fault fault, size_t start,
							 size_t got, uint32_t incl, uint32_t orig)
{
	char detail[96];

	if (fault != BAD_LENGTH && r->f && ferror(r->f))
		return reader_error(r, BTSNOOP_E_IO, strerror(errno));
	switch (fault) {
	case NO_HEADER:
		if (got == 0)
			return 0;
		snprintf(detail, sizeof(detail),
			 "record %" PRIu64 " at byte %zu: header has %zu of 24 bytes",
			 r->records + 1, start, got);
		return reader_error(r, BTSNOOP_E_TRUNCATED, detail);
	case BAD_LENGTH:
		snprintf(detail, sizeof(detail),
			 "record %" PRIu64 " at byte %zu: included %" PRIu32
			 ", original %" PRIu32, r->records + 1, start, incl, orig);
		return reader_error(r, BTSNOOP_E_LENGTH, detail);
	case NO_BODY:
	default:
		snprintf(detail, sizeof(detail),
			 "record %" PRIu64 " at byte %zu: %zu of %" PRIu32 " bytes",
			 r->records + 1, start, got, incl);
		return reader_error(r, BTSNOOP_E_TRUNCATED, detail);
	}
}

/* The lengths of the record at the read position, whose header is in the
 * block: true when they are sound and its body is in the block too. */
static inline bool whole_in_block(const struct btsnoop_reader *r, uint32_t *orig,
				  uint32_t *incl)
{
	const uint8_t *h = r->buf + r->blk_pos;

	*orig = get32be(h);
	*incl = get32be(h + 4);
	return *incl <= *orig && *incl <= BTSNOOP_MAX_RECORD &&
	       r->blk_end - r->blk_pos - BTSNOOP_RECORD_HEADER_LEN >= *incl;
}

/* Flags, cumulative drops and timestamp of a record header. */
static inline void header_rest(const uint8_t *h, uint32_t *flags, uint32_t *drops,
			       uint64_t *ts)
{
	*flags = get32be(h + 8);
	*drops = get32be(h + 12);
	*ts = get64be(h + 16);
}

/* Microseconds since 1970 of a btsnoop timestamp; the signed timestamp
 * may predate 1970 in odd captures (then 0). */
static inline uint64_t unix_us(uint64_t ts)
{
	return ts >= BTSNOOP_EPOCH_DELTA_US && ts < (1ULL << 63) ? ts - BTSNOOP_EPOCH_DELTA_US : 0;
}

/* An H4 record of a type h4_header_len() knows (H4_CMD .. H4_ISO). */
static inline bool h4_known(const uint8_t *body, uint32_t incl)
{
	return incl >= 1 && (uint8_t)(body[0] - H4_CMD) <= H4_ISO - H4_CMD;
}

/* rec from an H4 record's header fields and its body. */
static inline void put_h4(struct btsnoop_record *rec, uint64_t ts, uint32_t orig, uint32_t incl,
			  uint32_t flags, const uint8_t *body)
{
	rec->ts_us = unix_us(ts);
	rec->orig_len = orig;
	rec->truncated = incl < orig;
	rec->h4_type = body[0];
	rec->received = flags & 1;
	rec->index = 0;
	rec->data = body + 1;
	rec->len = incl - 1;
}

/* Any record: whole in the block or not, either datalink, damaged or not. */
static __attribute__((noinline)) int next_record(struct btsnoop_reader *r,
						 struct btsnoop_record *rec)
{
	if (r->error)
		return r->error;
	for (;;) {
		size_t start = r->pos, got;
		const uint8_t *h, *body;
		uint32_t orig, incl, flags;
		uint64_t ts;

		if (r->f && r->blk_end - r->blk_pos >= BTSNOOP_RECORD_HEADER_LEN &&
		    whole_in_block(r, &orig, &incl)) {
			h = r->buf + r->blk_pos;
			body = h + BTSNOOP_RECORD_HEADER_LEN;
			r->blk_pos += BTSNOOP_RECORD_HEADER_LEN + incl;
			r->pos += BTSNOOP_RECORD_HEADER_LEN + incl;
			header_rest(h, &flags, &rec->drops, &ts);
		} else {
			h = take(r, BTSNOOP_RECORD_HEADER_LEN, &got);
			if (!h)
				return record_error(r, NO_HEADER, start, got, 0, 0);
			orig = get32be(h);
			incl = get32be(h + 4);
			if (incl > BTSNOOP_MAX_RECORD || incl > orig)
				return record_error(r, BAD_LENGTH, start, 0, incl, orig);
			/* Before take() may move the block the header lies in. */
			header_rest(h, &flags, &rec->drops, &ts);
			body = take(r, incl, &got);
			if (!body)
				return record_error(r, NO_BODY, start, got, incl, orig);
		}
		r->records++;
		if (r->datalink == BTSNOOP_DATALINK_H4) {
			if (!h4_known(body, incl)) {
				r->skipped++;
				continue;
			}
			put_h4(rec, ts, orig, incl, flags, body);
			return 1;
		}
		rec->ts_us = unix_us(ts);
		rec->orig_len = orig;
		rec->truncated = incl < orig;
		if (!monitor_packet((uint16_t)flags, &rec->h4_type, &rec->received)) {
			r->skipped++;
			continue;
		}
		rec->index = (uint16_t)(flags >> 16);
		rec->data = body;
		rec->len = incl;
		return 1;
	}
}

/*
 * Nearly every record of a capture file lies whole in the read block (all
 * but one per 128 KiB), and in an H4 capture it is an HCI packet of a
 * known type: such a record is handed out from the block with one bounds
 * check. Every other record (crossing the block's end, a memory buffer's,
 * a monitor capture's, a skipped or damaged one) goes through
 * next_record(), which takes the same record the same way when it can.
 */
int btsnoop_reader_next(struct btsnoop_reader *r, struct btsnoop_record *rec)
{
	uint32_t orig, incl, flags;
	const uint8_t *h, *body;
	uint64_t ts;

	if (r->error || !r->f || r->datalink != BTSNOOP_DATALINK_H4 ||
	    r->blk_end - r->blk_pos < BTSNOOP_RECORD_HEADER_LEN || !whole_in_block(r, &orig, &incl))
		return next_record(r, rec);
	h = r->buf + r->blk_pos;
	body = h + BTSNOOP_RECORD_HEADER_LEN;
	if (!h4_known(body, incl))
		return next_record(r, rec);
	r->blk_pos += BTSNOOP_RECORD_HEADER_LEN + incl;
	r->pos += BTSNOOP_RECORD_HEADER_LEN + incl;
	header_rest(h, &flags, &rec->drops, &ts);
	r->records++;
	put_h4(rec, ts, orig, incl, flags, body);
	return 1;
}

/* ---------------------------------------------------------------- writer */

static int wfail(struct btsnoop_writer *w, int err)
{
	if (!w->error)
		w->error = err;
	return err;
}

int btsnoop_writer_open(struct btsnoop_writer *w, FILE *f, uint32_t datalink)
{
	uint8_t h[BTSNOOP_HEADER_LEN];

	memset(w, 0, sizeof(*w));
	w->f = f;
	w->datalink = datalink;
	if (datalink != BTSNOOP_DATALINK_H4 && datalink != BTSNOOP_DATALINK_MONITOR)
		return wfail(w, BTSNOOP_E_DATALINK);
	memcpy(h, btsnoop_magic, 8);
	put32be(h + 8, 1);
	put32be(h + 12, datalink);
	if (fwrite(h, 1, sizeof(h), f) != sizeof(h))
		return wfail(w, BTSNOOP_E_IO);
	return 0;
}

static int write_raw(struct btsnoop_writer *w, uint64_t ts_us, uint32_t flags, uint8_t prefix,
		     bool has_prefix, const uint8_t *data, size_t len)
{
	uint8_t h[BTSNOOP_RECORD_HEADER_LEN];
	size_t total = len + has_prefix;

	if (w->error)
		return w->error;
	if (total > BTSNOOP_MAX_RECORD || (len && !data))
		return BTSNOOP_E_ARG;
	put32be(h, (uint32_t)total);
	put32be(h + 4, (uint32_t)total);
	put32be(h + 8, flags);
	put32be(h + 12, 0);
	put64be(h + 16, ts_us + BTSNOOP_EPOCH_DELTA_US);
	if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
	    (has_prefix && fputc(prefix, w->f) == EOF) ||
	    (len && fwrite(data, 1, len, w->f) != len))
		return wfail(w, BTSNOOP_E_IO);
	return 0;
}

static bool monitor_opcode(uint8_t type, bool received, uint16_t *op)
{
	switch (type) {
	case H4_CMD:   *op = BTSNOOP_MON_COMMAND_PKT; return true;
	case H4_EVENT: *op = BTSNOOP_MON_EVENT_PKT; return true;
	case H4_ACL:
		*op = received ? BTSNOOP_MON_ACL_RX_PKT : BTSNOOP_MON_ACL_TX_PKT;
		return true;
	case H4_SCO:
		*op = received ? BTSNOOP_MON_SCO_RX_PKT : BTSNOOP_MON_SCO_TX_PKT;
		return true;
	case H4_ISO:
		*op = received ? BTSNOOP_MON_ISO_RX_PKT : BTSNOOP_MON_ISO_TX_PKT;
		return true;
	default:       return false;
	}
}

int btsnoop_writer_write(struct btsnoop_writer *w, const struct btsnoop_record *rec)
{
	uint16_t op;
	bool received = rec->received;

	if (w->error)
		return w->error;
	/* Commands only go to the controller, events only come from it. */
	if (rec->h4_type == H4_CMD)
		received = false;
	else if (rec->h4_type == H4_EVENT)
		received = true;
	if (w->datalink == BTSNOOP_DATALINK_H4) {
		/* Flags: bit 0 direction (1 = received), bit 1 command/event. */
		uint32_t flags = (uint32_t)received |
				 (rec->h4_type == H4_CMD || rec->h4_type == H4_EVENT ? 2u : 0u);

		if (h4_header_len(rec->h4_type) == 0)
			return BTSNOOP_E_ARG;
		return write_raw(w, rec->ts_us, flags, rec->h4_type, true, rec->data, rec->len);
	}
	if (!monitor_opcode(rec->h4_type, received, &op))
		return BTSNOOP_E_ARG;
	return write_raw(w, rec->ts_us, (uint32_t)rec->index << 16 | op, 0, false, rec->data,
			 rec->len);
}

int btsnoop_writer_write_monitor(struct btsnoop_writer *w, uint64_t ts_us, uint16_t index,
				 uint16_t opcode, const uint8_t *data, size_t len)
{
	if (w->datalink != BTSNOOP_DATALINK_MONITOR)
		return BTSNOOP_E_ARG;
	return write_raw(w, ts_us, (uint32_t)index << 16 | opcode, 0, false, data, len);
}

int btsnoop_writer_new_index(struct btsnoop_writer *w, uint64_t ts_us, uint16_t index,
			     const uint8_t bdaddr[6], const char *name)
{
	/* struct monitor_new_index: type (0 = primary), bus (0 = virtual),
	 * bdaddr, 8-byte name. */
	uint8_t b[16] = { 0 };

	memcpy(b + 2, bdaddr, 6);
	if (name)
		memcpy(b + 8, name, strnlen(name, 8));
	return btsnoop_writer_write_monitor(w, ts_us, index, BTSNOOP_MON_NEW_INDEX, b, sizeof(b));
}
