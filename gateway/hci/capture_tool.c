/*
 * capture_tool.c - bgw-capture: write a btsnoop capture from a text
 * description, so the test captures in tests/data are reproducible.
 *
 *   bgw-capture IN.txt OUT.btsnoop
 *
 * One directive per line; '#' starts a comment. Each packet directive
 * writes one record (ext may write several: one per fragment) stamped with
 * the clock, which then advances by the step.
 *
 *   datalink 1002|2001        before any packet (default 1002)
 *   time YYYY-MM-DDTHH:MM:SS[.ffffff]Z    set the clock (UTC)
 *   step MICROSECONDS         clock advance per record (default 100000)
 *   index N NAME ADDR         2001 only: a New Index record for controller N,
 *                             which then owns the following packets
 *   cmd OPCODE [PARAMHEX]     an HCI command (sent)
 *   cc OPCODE [RETHEX]        a Command Complete event for OPCODE
 *   hwerr CODE                a Hardware Error event
 *   event HEX                 any event, raw (code, length, parameters) --
 *                             for malformed ones
 *   adv REPORT [| REPORT]...  one LE Advertising Report event, where
 *       REPORT = KIND ADDRTYPE ADDR RSSI DATA
 *   ext TYPE ADDRTYPE ADDR RSSI PHY SPHY SID TXPOWER DATA [OPTION]...
 *       one LE Extended Advertising Report, fragmented into chained events
 *       OPTIONS: fill=N      append N bytes 00 01 02 ... to DATA
 *                frag=N      at most N data bytes per event
 *                truncated   the last fragment says "truncated"
 *                status=more|complete|truncated  one event with exactly
 *                            this data status (to interleave fragments)
 *
 * KIND: adv_ind adv_direct_ind adv_scan_ind adv_nonconn_ind scan_rsp.
 * TYPE: a KIND (legacy PDU) or the raw Event_Type bits (e.g. 0x0000).
 * ADDRTYPE: public random public-id random-id anonymous, or a number.
 * ADDR: AA:BB:CC:DD:EE:FF (most significant first). RSSI, TXPOWER: dBm or
 * "na". DATA: hex, or "-" for none. Numbers: decimal or 0x hex.
 *
 * A bad line stops the tool with the file and line (die) and exit status
 * 65, leaving no output; as for beaconsim, an input that cannot be read is
 * 65 and an output that cannot be written 69 (bgw_exit.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "beacon_frame.h"
#include "bgw_exit.h"
#include "btsnoop.h"
#include "h4.h"
#include "hci_cmd.h"
#include "bgw_util.h"

#define MAX_TOKENS 64

struct ctx {
	const char *path;
	unsigned line;
	struct btsnoop_writer w;
	bool started;
	uint32_t datalink;
	uint64_t clock;
	uint64_t step;
	uint16_t index;
	char tmp_path[4096]; /* written here, renamed over OUT only when all went well */
};

__attribute__((format(printf, 2, 3), noreturn))
static void die(const struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bgw-capture: %s:%u: ", c->path, c->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (c->tmp_path[0])
		unlink(c->tmp_path);
	exit(BGW_EXIT_DATAERR);
}

static long parse_num(const struct ctx *c, const char *s, long lo, long hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < lo || v > hi)
		die(c, "bad %s '%s' (%ld..%ld)", what, s, lo, hi);
	return v;
}

static int8_t parse_dbm(const struct ctx *c, const char *s, const char *what)
{
	if (strcmp(s, "na") == 0)
		return 127;
	return (int8_t)parse_num(c, s, -128, 127, what);
}

/* DATA: hex digits, or "-" for none. */
static size_t parse_hex(const struct ctx *c, const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s);

	if (strcmp(s, "-") == 0)
		return 0;
	if (len % 2)
		die(c, "odd number of hex digits in '%s'", s);
	if (len / 2 > cap || !bgw_hex_decode(s, len, out, len / 2, NULL))
		die(c, "bad hex (or too long) '%s'", s);
	return len / 2;
}

/* AA:BB:CC:DD:EE:FF, most significant first; stored in wire order. */
static void parse_addr(const struct ctx *c, const char *s, uint8_t addr[6])
{
	if (strlen(s) != 17)
		die(c, "bad address '%s'", s);
	for (int i = 0; i < 6; i++)
		if ((i < 5 && s[i * 3 + 2] != ':') ||
		    !bgw_hex_decode(s + i * 3, 2, &addr[5 - i], 1, NULL))
			die(c, "bad address '%s'", s);
}

static uint8_t parse_addr_type(const struct ctx *c, const char *s)
{
	static const struct { const char *name; uint8_t v; } names[] = {
		{ "public", 0 }, { "random", 1 }, { "public-id", 2 }, { "random-id", 3 },
		{ "anonymous", 0xFF },
	};

	for (size_t i = 0; i < BGW_ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].v;
	return (uint8_t)parse_num(c, s, 0, 255, "address type");
}

static int kind_of(const char *s)
{
	static const char *const kinds[] = { "adv_ind", "adv_direct_ind", "adv_scan_ind",
					     "adv_nonconn_ind", "scan_rsp" };

	for (int i = 0; i < 5; i++)
		if (strcmp(s, kinds[i]) == 0)
			return i;
	return -1;
}

static void parse_time(struct ctx *c, const char *s)
{
	struct tm tm = { 0 };
	unsigned long us = 0;
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!p)
		die(c, "bad time '%s'", s);
	if (*p == '.') {
		char *end;

		us = strtoul(p + 1, &end, 10);
		if (end - (p + 1) != 6)
			die(c, "time needs 6 fractional digits: '%s'", s);
		p = end;
	}
	if (strcmp(p, "Z") != 0)
		die(c, "time must end in Z (UTC): '%s'", s);
	c->clock = (uint64_t)timegm(&tm) * 1000000 + us;
}

static void start(struct ctx *c)
{
	if (c->started)
		return;
	if (btsnoop_writer_open(&c->w, c->w.f, c->datalink))
		die(c, "cannot write the file header");
	c->started = true;
}

/* Write one H4 packet (type byte first) as a record. */
static void emit(struct ctx *c, const uint8_t *h4, size_t len)
{
	struct btsnoop_record rec = { 0 };

	if (len == 0)
		die(c, "packet does not fit or is invalid");
	start(c);
	rec.ts_us = c->clock;
	rec.h4_type = h4[0];
	rec.received = h4[0] != H4_CMD;
	rec.index = c->index;
	rec.data = h4 + 1;
	rec.len = len - 1;
	if (btsnoop_writer_write(&c->w, &rec))
		die(c, "write failed");
	c->clock += c->step;
}

static void do_adv(struct ctx *c, char **tok, int ntok)
{
	static uint8_t data[25][BF_LEGACY_ADV_MAX];
	struct adv_report r[25];
	uint8_t out[HCI_MAX_EVENT_H4];
	size_t n = 0;
	int i = 1;

	while (i < ntok) {
		int kind;

		if (ntok - i < 5 || n == 25)
			die(c, "adv: want KIND ADDRTYPE ADDR RSSI DATA [| ...]");
		memset(&r[n], 0, sizeof(r[n]));
		kind = kind_of(tok[i]);
		if (kind < 0)
			die(c, "bad kind '%s'", tok[i]);
		r[n].kind = (enum adv_kind)kind;
		r[n].addr_type = parse_addr_type(c, tok[i + 1]);
		parse_addr(c, tok[i + 2], r[n].addr);
		r[n].rssi = parse_dbm(c, tok[i + 3], "rssi");
		r[n].data_len = (uint16_t)parse_hex(c, tok[i + 4], data[n], BF_LEGACY_ADV_MAX);
		r[n].data = data[n];
		n++;
		i += 5;
		if (i < ntok) {
			if (strcmp(tok[i], "|") != 0)
				die(c, "expected '|' between reports, got '%s'", tok[i]);
			i++;
		}
	}
	emit(c, out, hci_evt_le_adv_report(out, sizeof(out), r, n));
}

static void do_ext(struct ctx *c, char **tok, int ntok)
{
	static uint8_t data[BF_EXT_ADV_MAX];
	uint8_t out[HCI_MAX_EVENT_H4];
	struct adv_report r = { 0 };
	size_t max_frag = 0, off = 0, len;
	int kind, status = -1;

	if (ntok < 10)
		die(c, "ext: want TYPE ADDRTYPE ADDR RSSI PHY SPHY SID TXPOWER DATA [OPTION]...");
	kind = kind_of(tok[1]);
	if (kind >= 0)
		r.event_type = hci_ext_event_type_of_legacy((enum adv_kind)kind);
	else
		r.event_type = (uint16_t)parse_num(c, tok[1], 0, 0xFFFF, "event type");
	r.addr_type = parse_addr_type(c, tok[2]);
	parse_addr(c, tok[3], r.addr);
	r.rssi = parse_dbm(c, tok[4], "rssi");
	r.primary_phy = (uint8_t)parse_num(c, tok[5], 0, 255, "phy");
	r.secondary_phy = (uint8_t)parse_num(c, tok[6], 0, 255, "secondary phy");
	r.sid = (uint8_t)parse_num(c, tok[7], 0, 255, "sid");
	r.tx_power = parse_dbm(c, tok[8], "tx power");
	len = parse_hex(c, tok[9], data, sizeof(data));
	for (int i = 10; i < ntok; i++) {
		if (strncmp(tok[i], "fill=", 5) == 0) {
			long fill = parse_num(c, tok[i] + 5, 0, BF_EXT_ADV_MAX, "fill");

			if ((size_t)fill > sizeof(data) - len)
				die(c, "data longer than %d bytes", BF_EXT_ADV_MAX);
			for (long k = 0; k < fill; k++)
				data[len++] = (uint8_t)k;
		} else if (strncmp(tok[i], "frag=", 5) == 0) {
			max_frag = (size_t)parse_num(c, tok[i] + 5, 1, HCI_EXT_ADV_FRAG_MAX,
						"frag");
		} else if (strcmp(tok[i], "truncated") == 0) {
			r.data_status = ADV_DATA_TRUNCATED;
		} else if (strcmp(tok[i], "status=more") == 0) {
			status = 1;
		} else if (strcmp(tok[i], "status=complete") == 0) {
			status = 0;
		} else if (strcmp(tok[i], "status=truncated") == 0) {
			status = 2;
		} else {
			die(c, "unknown ext option '%s'", tok[i]);
		}
	}
	r.data = data;
	r.data_len = (uint16_t)len;
	if (status >= 0) {
		size_t n;

		if (len > HCI_EXT_ADV_FRAG_MAX)
			die(c, "status= wants data that fits one event");
		n = hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, 0);
		/* Event_Type sits after type, code, length, subevent, count. */
		if (n)
			out[5] = (uint8_t)((out[5] & ~0x60) | status << 5);
		emit(c, out, n);
		return;
	}
	do {
		emit(c, out, hci_evt_le_ext_adv_report(out, sizeof(out), &r, &off, max_frag));
	} while (off < len);
}

static void do_line(struct ctx *c, char **tok, int ntok)
{
	uint8_t out[1 + 2 + 255 + 1]; /* any command or event, H4 type first */
	uint8_t buf[2 + 255];
	const char *d = tok[0];

	if (strcmp(d, "datalink") == 0 && ntok == 2) {
		if (c->started)
			die(c, "datalink must come before any packet");
		c->datalink = (uint32_t)parse_num(c, tok[1], 1002, 2001, "datalink");
		if (c->datalink != BTSNOOP_DATALINK_H4 && c->datalink != BTSNOOP_DATALINK_MONITOR)
			die(c, "datalink must be 1002 or 2001");
	} else if (strcmp(d, "time") == 0 && ntok == 2) {
		parse_time(c, tok[1]);
	} else if (strcmp(d, "step") == 0 && ntok == 2) {
		c->step = (uint64_t)parse_num(c, tok[1], 0, 3600000000L, "step");
	} else if (strcmp(d, "index") == 0 && ntok == 4) {
		uint8_t addr[6];

		if (c->datalink != BTSNOOP_DATALINK_MONITOR)
			die(c, "index needs datalink 2001");
		c->index = (uint16_t)parse_num(c, tok[1], 0, 0xFFFE, "index");
		parse_addr(c, tok[3], addr);
		start(c);
		if (btsnoop_writer_new_index(&c->w, c->clock, c->index, addr, tok[2]))
			die(c, "write failed");
		c->clock += c->step;
	} else if (strcmp(d, "cmd") == 0 && (ntok == 2 || ntok == 3)) {
		uint16_t op = (uint16_t)parse_num(c, tok[1], 0, 0xFFFF, "opcode");
		size_t n = ntok == 3 ? parse_hex(c, tok[2], buf, 255) : 0;

		emit(c, out, hci_cmd_build(out, sizeof(out), op, buf, n));
	} else if (strcmp(d, "cc") == 0 && (ntok == 2 || ntok == 3)) {
		uint16_t op = (uint16_t)parse_num(c, tok[1], 0, 0xFFFF, "opcode");
		size_t n = ntok == 3 ? parse_hex(c, tok[2], buf, 252) : 0;

		emit(c, out, hci_evt_cmd_complete(out, sizeof(out), 1, op, buf, n));
	} else if (strcmp(d, "hwerr") == 0 && ntok == 2) {
		uint8_t code = (uint8_t)parse_num(c, tok[1], 0, 255, "hardware code");

		emit(c, out, hci_evt_hw_error(out, sizeof(out), code));
	} else if (strcmp(d, "event") == 0 && ntok == 2) {
		size_t n = parse_hex(c, tok[1], buf, 2 + 255);

		out[0] = H4_EVENT;
		memcpy(out + 1, buf, n);
		emit(c, out, n ? 1 + n : 0);
	} else if (strcmp(d, "adv") == 0) {
		do_adv(c, tok, ntok);
	} else if (strcmp(d, "ext") == 0) {
		do_ext(c, tok, ntok);
	} else {
		die(c, "unknown directive or wrong arguments: '%s'", d);
	}
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	char line[8192];
	FILE *in, *out;

	if (argc != 3) {
		fprintf(stderr, "usage: bgw-capture IN.txt OUT.btsnoop\n");
		return BGW_EXIT_USAGE;
	}
	c.path = argv[1];
	c.datalink = BTSNOOP_DATALINK_H4;
	c.step = 100000;
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "bgw-capture: %s: %s\n", argv[1], strerror(errno));
		return BGW_EXIT_DATAERR;
	}
	if ((size_t)snprintf(c.tmp_path, sizeof(c.tmp_path), "%s.tmp", argv[2]) >=
	    sizeof(c.tmp_path)) {
		fprintf(stderr, "bgw-capture: %s: path too long\n", argv[2]);
		return BGW_EXIT_USAGE;
	}
	out = fopen(c.tmp_path, "wb");
	if (!out) {
		fprintf(stderr, "bgw-capture: %s: %s\n", c.tmp_path, strerror(errno));
		return BGW_EXIT_UNAVAILABLE;
	}
	c.w.f = out;
	while (fgets(line, sizeof(line), in)) {
		char *tok[MAX_TOKENS], *save = NULL, *hash;
		int ntok = 0;

		c.line++;
		if (!strchr(line, '\n') && !feof(in))
			die(&c, "line too long");
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (char *t = strtok_r(line, " \t\r\n", &save); t;
		     t = strtok_r(NULL, " \t\r\n", &save)) {
			if (ntok == MAX_TOKENS)
				die(&c, "too many words");
			tok[ntok++] = t;
		}
		if (ntok)
			do_line(&c, tok, ntok);
	}
	start(&c);
	fclose(in);
	if (fclose(out) != 0 || rename(c.tmp_path, argv[2]) != 0) {
		fprintf(stderr, "bgw-capture: %s: %s\n", argv[2], strerror(errno));
		unlink(c.tmp_path);
		return BGW_EXIT_UNAVAILABLE;
	}
	return BGW_EXIT_OK;
}
