/*
 * btsnoop.h - read and write btsnoop capture files (RFC 1761 layout, as
 * written by btmon, Android and Wireshark), datalinks 1002 (HCI UART/H4:
 * the packet-type byte leads each record) and 2001 (BlueZ monitor: the
 * packet kind and controller index are in the record flags).
 *
 * File: 16-byte header "btsnoop\0", version 1, datalink (big-endian), then
 * records: original length, included length, flags, cumulative drops
 * (32-bit) and timestamp (64-bit, µs since 0000-01-01 AD), all big-endian.
 *
 * Records are handed over as an H4 packet type plus the HCI packet WITHOUT
 * the type byte, whatever the datalink. Monitor records that carry no HCI
 * packet (new/deleted index, notes, logging, ...) and H4 records with an
 * unknown packet type are skipped and counted. Damage to the file's
 * structure (wrong magic, version or datalink, cut records, lengths beyond
 * any HCI packet) is an error with a one-line message; an error is final.
 */
#ifndef BGW_BTSNOOP_H
#define BGW_BTSNOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BTSNOOP_DATALINK_H4 1002
#define BTSNOOP_DATALINK_MONITOR 2001

/* Microseconds from 0000-01-01 to 1970-01-01 in the btsnoop calendar. */
#define BTSNOOP_EPOCH_DELTA_US 0x00dcddb30f2f8000ULL

#define BTSNOOP_HEADER_LEN 16
#define BTSNOOP_RECORD_HEADER_LEN 24
/* Largest record body: H4 type byte + ACL header + 65535 data bytes. */
#define BTSNOOP_MAX_RECORD (1 + 4 + 65535)

/* BlueZ monitor opcodes (src/shared/btsnoop.h in BlueZ). */
enum btsnoop_monitor_op {
	BTSNOOP_MON_NEW_INDEX = 0,
	BTSNOOP_MON_DEL_INDEX = 1,
	BTSNOOP_MON_COMMAND_PKT = 2,
	BTSNOOP_MON_EVENT_PKT = 3,
	BTSNOOP_MON_ACL_TX_PKT = 4,
	BTSNOOP_MON_ACL_RX_PKT = 5,
	BTSNOOP_MON_SCO_TX_PKT = 6,
	BTSNOOP_MON_SCO_RX_PKT = 7,
	BTSNOOP_MON_OPEN_INDEX = 8,
	BTSNOOP_MON_CLOSE_INDEX = 9,
	BTSNOOP_MON_INDEX_INFO = 10,
	BTSNOOP_MON_VENDOR_DIAG = 11,
	BTSNOOP_MON_SYSTEM_NOTE = 12,
	BTSNOOP_MON_USER_LOGGING = 13,
	BTSNOOP_MON_ISO_TX_PKT = 18,
	BTSNOOP_MON_ISO_RX_PKT = 19,
};

enum btsnoop_error {
	BTSNOOP_E_IO = -1,          /* read or write failed */
	BTSNOOP_E_MAGIC = -2,       /* not a btsnoop file */
	BTSNOOP_E_VERSION = -3,     /* version other than 1 */
	BTSNOOP_E_DATALINK = -4,    /* datalink other than 1002/2001 */
	BTSNOOP_E_TRUNCATED = -5,   /* file ends inside the header or a record */
	BTSNOOP_E_LENGTH = -6,      /* absurd record length */
	BTSNOOP_E_ARG = -7,         /* writer: record that cannot be written */
};

struct btsnoop_record {
	uint64_t ts_us;        /* µs since the Unix epoch (0 for earlier times) */
	uint8_t h4_type;       /* H4_CMD, H4_ACL, H4_SCO, H4_EVENT, H4_ISO */
	bool received;         /* controller to host */
	uint16_t index;        /* controller index (monitor), 0 for H4 */
	uint32_t orig_len;     /* length on the wire (incl. the H4 type byte for 1002) */
	uint32_t drops;        /* cumulative drops as recorded */
	bool truncated;        /* the capture kept fewer bytes than the packet had */
	const uint8_t *data;   /* HCI packet without the type byte; valid until the next read */
	size_t len;
};

/* A file is read in blocks of up to this size; records are handed out from
 * the block where they lie. It holds two of the largest records, so a record
 * cut by a block's end always fits once the next block is appended. */
#define BTSNOOP_READ_BLOCK (2 * BTSNOOP_MAX_RECORD)

/* About 128 KiB (the read block): make it static or allocate it once,
 * rather than putting it on a small stack. */
struct btsnoop_reader {
	FILE *f;                 /* or NULL for a memory buffer: */
	const uint8_t *mem;
	size_t mem_len;
	size_t pos;              /* bytes consumed so far */
	size_t blk_pos, blk_end; /* file: unread bytes are buf[blk_pos, blk_end) */
	bool stream;             /* file: a pipe or terminal, read only what is needed */
	uint32_t datalink;
	uint64_t records;        /* records read (packets and skipped) */
	uint64_t skipped;        /* records without an HCI packet */
	int error;               /* 0, or the enum btsnoop_error that ended reading */
	char msg[128];           /* what went wrong, one line */
	uint8_t buf[BTSNOOP_READ_BLOCK];
};

/* Start reading; both read and check the file header. 0 or an error. */
int btsnoop_reader_open_file(struct btsnoop_reader *r, FILE *f);
int btsnoop_reader_open_mem(struct btsnoop_reader *r, const uint8_t *buf, size_t len);

/* Next HCI packet: 1 with *rec filled, 0 at a clean end of file, or a
 * negative enum btsnoop_error (then btsnoop_reader_message() says why). */
int btsnoop_reader_next(struct btsnoop_reader *r, struct btsnoop_record *rec);

/* The last error as one line ("record 7 at byte 412: ..."), or "" */
const char *btsnoop_reader_message(const struct btsnoop_reader *r);

const char *btsnoop_strerror(int err);

struct btsnoop_writer {
	FILE *f;
	uint32_t datalink;
	int error;
};

/* Write the file header. 0 or an error. */
int btsnoop_writer_open(struct btsnoop_writer *w, FILE *f, uint32_t datalink);

/* Write one packet (rec->data without the type byte, rec->len bytes;
 * orig_len/truncated/drops are ignored: what is given is what is kept). */
int btsnoop_writer_write(struct btsnoop_writer *w, const struct btsnoop_record *rec);

/* Monitor files only: a raw monitor record (e.g. a system note). */
int btsnoop_writer_write_monitor(struct btsnoop_writer *w, uint64_t ts_us, uint16_t index,
				 uint16_t opcode, const uint8_t *data, size_t len);

/* Monitor files only: announce controller `index` (btmon names it in its
 * output); bdaddr most significant byte last, as on the HCI wire. */
int btsnoop_writer_new_index(struct btsnoop_writer *w, uint64_t ts_us, uint16_t index,
			     const uint8_t bdaddr[6], const char *name);

#endif
