/* irk_bitslice.c - AES-128 for ah() on 64 bitsliced keys at once. */
#include "irk_bitslice.h"

#include <string.h>

#include "irk_ah.h"

typedef uint64_t word;

/* Byte i of the state or of a round key is words 8·i .. 8·i + 7. */
#define BYTE(p, i) ((p) + 8 * (i))

/*
 * The AES S-box as a circuit of 32 ANDs and 83 XOR/XNORs (Boyar and
 * Peralta's, "A new combinational logic minimization technique with
 * applications to cryptology", 2010): a linear layer into the inversion
 * in GF(2^4)^2, the inversion, a linear layer out. x0 and s0 are the most
 * significant bits. In place on the eight words of one byte.
 */
static inline void sbox(word *b)
{
	const word x0 = b[7], x1 = b[6], x2 = b[5], x3 = b[4];
	const word x4 = b[3], x5 = b[2], x6 = b[1], x7 = b[0];
	word y1, y2, y3, y4, y5, y6, y7, y8, y9, y10, y11, y12, y13, y14, y15;
	word y16, y17, y18, y19, y20, y21;
	word t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14;
	word t15, t16, t17, t18, t19, t20, t21, t22, t23, t24, t25, t26, t27;
	word t28, t29, t30, t31, t32, t33, t34, t35, t36, t37, t38, t39, t40;
	word t41, t42, t43, t44, t45, t46, t47, t48, t49, t50, t51, t52, t53;
	word t54, t55, t56, t57, t58, t59, t60, t61, t62, t63, t64, t65, t66, t67;
	word z0, z1, z2, z3, z4, z5, z6, z7, z8, z9, z10, z11, z12, z13, z14;
	word z15, z16, z17;

	/* Top linear layer. */
	y14 = x3 ^ x5;
	y13 = x0 ^ x6;
	y9 = x0 ^ x3;
	y8 = x0 ^ x5;
	t0 = x1 ^ x2;
	y1 = t0 ^ x7;
	y4 = y1 ^ x3;
	y12 = y13 ^ y14;
	y2 = y1 ^ x0;
	y5 = y1 ^ x6;
	y3 = y5 ^ y8;
	t1 = x4 ^ y12;
	y15 = t1 ^ x5;
	y20 = t1 ^ x1;
	y6 = y15 ^ x7;
	y10 = y15 ^ t0;
	y11 = y20 ^ y9;
	y7 = x7 ^ y11;
	y17 = y10 ^ y11;
	y19 = y10 ^ y8;
	y16 = t0 ^ y11;
	y21 = y13 ^ y16;
	y18 = x0 ^ y16;

	/* Inversion in GF(2^8) through GF(2^4). */
	t2 = y12 & y15;
	t3 = y3 & y6;
	t4 = t3 ^ t2;
	t5 = y4 & x7;
	t6 = t5 ^ t2;
	t7 = y13 & y16;
	t8 = y5 & y1;
	t9 = t8 ^ t7;
	t10 = y2 & y7;
	t11 = t10 ^ t7;
	t12 = y9 & y11;
	t13 = y14 & y17;
	t14 = t13 ^ t12;
	t15 = y8 & y10;
	t16 = t15 ^ t12;
	t17 = t4 ^ t14;
	t18 = t6 ^ t16;
	t19 = t9 ^ t14;
	t20 = t11 ^ t16;
	t21 = t17 ^ y20;
	t22 = t18 ^ y19;
	t23 = t19 ^ y21;
	t24 = t20 ^ y18;
	t25 = t21 ^ t22;
	t26 = t21 & t23;
	t27 = t24 ^ t26;
	t28 = t25 & t27;
	t29 = t28 ^ t22;
	t30 = t23 ^ t24;
	t31 = t22 ^ t26;
	t32 = t31 & t30;
	t33 = t32 ^ t24;
	t34 = t23 ^ t33;
	t35 = t27 ^ t33;
	t36 = t24 & t35;
	t37 = t36 ^ t34;
	t38 = t27 ^ t36;
	t39 = t29 & t38;
	t40 = t25 ^ t39;
	t41 = t40 ^ t37;
	t42 = t29 ^ t33;
	t43 = t29 ^ t40;
	t44 = t33 ^ t37;
	t45 = t42 ^ t41;
	z0 = t44 & y15;
	z1 = t37 & y6;
	z2 = t33 & x7;
	z3 = t43 & y16;
	z4 = t40 & y1;
	z5 = t29 & y7;
	z6 = t42 & y11;
	z7 = t45 & y17;
	z8 = t41 & y10;
	z9 = t44 & y12;
	z10 = t37 & y3;
	z11 = t33 & y4;
	z12 = t43 & y13;
	z13 = t40 & y5;
	z14 = t29 & y2;
	z15 = t42 & y9;
	z16 = t45 & y14;
	z17 = t41 & y8;

	/* Bottom linear layer (with the S-box's affine constant 0x63). */
	t46 = z15 ^ z16;
	t47 = z10 ^ z11;
	t48 = z5 ^ z13;
	t49 = z9 ^ z10;
	t50 = z2 ^ z12;
	t51 = z2 ^ z5;
	t52 = z7 ^ z8;
	t53 = z0 ^ z3;
	t54 = z6 ^ z7;
	t55 = z16 ^ z17;
	t56 = z12 ^ t48;
	t57 = t50 ^ t53;
	t58 = z4 ^ t46;
	t59 = z3 ^ t54;
	t60 = t46 ^ t57;
	t61 = z14 ^ t57;
	t62 = t52 ^ t58;
	t63 = t49 ^ t58;
	t64 = z4 ^ t59;
	t65 = t61 ^ t62;
	t66 = z1 ^ t63;
	b[7] = t59 ^ t63;
	b[1] = ~(t56 ^ t62);
	b[0] = ~(t48 ^ t60);
	t67 = t64 ^ t65;
	b[4] = t53 ^ t66;
	b[3] = t51 ^ t66;
	b[2] = t47 ^ t65;
	b[6] = ~(t64 ^ b[4]);
	b[5] = ~(t55 ^ t67);
}

/* A byte constant on every lane: the words of its set bits inverted. */
static inline void xor_const(word *b, uint8_t c)
{
	for (int j = 0; j < 8; j++)
		b[j] ^= (word)0 - ((c >> j) & 1);
}

/* The next round key in place: w0 ^= SubWord(RotWord(w3)) ^ rcon, then
 * w1 ^= w0, w2 ^= w1, w3 ^= w2. RotWord(w3) is bytes 13, 14, 15, 12. */
static inline void key_step(word *k, uint8_t rcon)
{
	word f[32];

	memcpy(BYTE(f, 0), BYTE(k, 13), 8 * sizeof(word));
	memcpy(BYTE(f, 1), BYTE(k, 14), 8 * sizeof(word));
	memcpy(BYTE(f, 2), BYTE(k, 15), 8 * sizeof(word));
	memcpy(BYTE(f, 3), BYTE(k, 12), 8 * sizeof(word));
	for (int i = 0; i < 4; i++)
		sbox(BYTE(f, i));
	xor_const(f, rcon);
	/* Down the four words at once, two bit positions a step: each word
	 * of the key is loaded and stored once. */
	for (int i = 0; i < 32; i += 2) {
		word v0 = k[i] ^ f[i], v1 = k[i + 1] ^ f[i + 1];

		k[i] = v0;
		k[i + 1] = v1;
		v0 ^= k[i + 32];
		v1 ^= k[i + 33];
		k[i + 32] = v0;
		k[i + 33] = v1;
		v0 ^= k[i + 64];
		v1 ^= k[i + 65];
		k[i + 64] = v0;
		k[i + 65] = v1;
		v0 ^= k[i + 96];
		v1 ^= k[i + 97];
		k[i + 96] = v0;
		k[i + 97] = v1;
	}
}

/*
 * One byte of MixColumns plus AddRoundKey, 2·a ^ 3·b ^ c ^ d ^ key, from
 * the sums ab = a ^ b and cd = c ^ d: xtime(ab) ^ b ^ cd ^ key. xtime()
 * shifts the bits up and folds the top bit back as 0x1b (bits 0, 1, 3, 4).
 */
static inline void mix_out(word *o, const word *ab, const word *b, const word *cd, const word *k)
{
	o[0] = ab[7] ^ b[0] ^ cd[0] ^ k[0];
	o[1] = ab[0] ^ ab[7] ^ b[1] ^ cd[1] ^ k[1];
	o[2] = ab[1] ^ b[2] ^ cd[2] ^ k[2];
	o[3] = ab[2] ^ ab[7] ^ b[3] ^ cd[3] ^ k[3];
	o[4] = ab[3] ^ ab[7] ^ b[4] ^ cd[4] ^ k[4];
	o[5] = ab[4] ^ b[5] ^ cd[5] ^ k[5];
	o[6] = ab[5] ^ b[6] ^ cd[6] ^ k[6];
	o[7] = ab[6] ^ b[7] ^ cd[7] ^ k[7];
}

/*
 * MixColumns and AddRoundKey of one column a0..a3 into o (four bytes), one
 * bit position at a time so that what is live fits in registers: bit j of
 * row r is xtime(a_r ^ a_r+1) ^ a_r+1 ^ (a_r+2 ^ a_r+3) ^ key, and bit j of
 * xtime(d) is bit j - 1 of d, plus bit 7 of d in bits 0, 1, 3 and 4.
 */
#define MIX_BIT(j, fold)                                                                 \
	do {                                                                             \
		word d01 = a0[j] ^ a1[j], d12 = a1[j] ^ a2[j];                           \
		word d23 = a2[j] ^ a3[j], d30 = a3[j] ^ a0[j];                           \
		if (fold) {                                                              \
			p01 ^= h01;                                                      \
			p12 ^= h12;                                                      \
			p23 ^= h23;                                                      \
			p30 ^= h30;                                                      \
		}                                                                        \
		o[j] = p01 ^ a1[j] ^ d23 ^ k[j];                                         \
		o[8 + j] = p12 ^ a2[j] ^ d30 ^ k[8 + j];                                 \
		o[16 + j] = p23 ^ a3[j] ^ d01 ^ k[16 + j];                               \
		o[24 + j] = p30 ^ a0[j] ^ d12 ^ k[24 + j];                               \
		p01 = d01;                                                               \
		p12 = d12;                                                               \
		p23 = d23;                                                               \
		p30 = d30;                                                               \
	} while (0)

static inline void mix_column(word *o, const word *a0, const word *a1, const word *a2,
			      const word *a3, const word *k)
{
	const word h01 = a0[7] ^ a1[7], h12 = a1[7] ^ a2[7];
	const word h23 = a2[7] ^ a3[7], h30 = a3[7] ^ a0[7];
	word p01 = 0, p12 = 0, p23 = 0, p30 = 0; /* the sums at bit j - 1 */

	MIX_BIT(0, 1);
	MIX_BIT(1, 1);
	MIX_BIT(2, 0);
	MIX_BIT(3, 1);
	MIX_BIT(4, 1);
	MIX_BIT(5, 0);
	MIX_BIT(6, 0);
	MIX_BIT(7, 0);
}

/* One row r of the same, for round 9, which needs one byte per column. */
static inline void mix_row(word *o, const word *a0, const word *a1, const word *a2,
			   const word *a3, int r, const word *k)
{
	const word *a[4] = { a0, a1, a2, a3 };
	const word *x = a[r], *y = a[(r + 1) & 3], *z = a[(r + 2) & 3], *v = a[(r + 3) & 3];
	word d[8], e[8];

	for (int j = 0; j < 8; j++) {
		d[j] = x[j] ^ y[j];
		e[j] = z[j] ^ v[j];
	}
	mix_out(o, d, y, e, k);
}

/* State byte (row r, column c) before ShiftRows that lands in (r, c) after it. */
#define SHIFTED(r, c) ((r) + 4 * (((c) + (r)) & 3))
#define COLUMN(p, c)                                                                     \
	BYTE(p, SHIFTED(0, c)), BYTE(p, SHIFTED(1, c)), BYTE(p, SHIFTED(2, c)),          \
		BYTE(p, SHIFTED(3, c))

/* Rounds 1-8: SubBytes in place on in, then ShiftRows, MixColumns and
 * AddRoundKey into out. */
static inline void round_full(word *in, word *out, const word *k)
{
	for (int i = 0; i < 16; i++)
		sbox(BYTE(in, i));
	mix_column(BYTE(out, 0), COLUMN(in, 0), BYTE(k, 0));
	mix_column(BYTE(out, 4), COLUMN(in, 1), BYTE(k, 4));
	mix_column(BYTE(out, 8), COLUMN(in, 2), BYTE(k, 8));
	mix_column(BYTE(out, 12), COLUMN(in, 3), BYTE(k, 12));
}

static const uint8_t rcon[9] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b };

uint64_t irk_bs_match(const struct irk_bs_group *g, uint32_t prand, uint32_t hash)
{
	word k[IRK_BS_WORDS], s[IRK_BS_WORDS], t[IRK_BS_WORDS];
	word m = ~(word)0;

	/* Round 0: the block is 13 zero bytes and prand, the same for every
	 * lane, so AddRoundKey inverts the key's words where prand has a 1. */
	memcpy(k, g->w, sizeof(k));
	memcpy(s, g->w, sizeof(s));
	for (int i = 0; i < 3; i++)
		xor_const(BYTE(s, 13 + i), (uint8_t)(prand >> (16 - 8 * i)));

	for (int r = 0; r < 8; r += 2) {
		key_step(k, rcon[r]);
		round_full(s, t, k);
		key_step(k, rcon[r + 1]);
		round_full(t, s, k);
	}
	key_step(k, rcon[8]);

	/*
	 * Output byte 13 + i of round 10 is the S-box of round 9's byte (row
	 * i + 1, column i) (the last ShiftRows) plus round 10's key byte
	 * 13 + i, which is bytes 1 + i of w0 ^ w1 ^ w2 ^ w3 ^ SubWord(RotWord(w3))
	 * of round 9's key; bytes 1-3 of RotWord(w3) are key bytes 14, 15, 12
	 * (rcon touches byte 0 only). One byte at a time: in most groups no
	 * lane matches the first byte ((255/256)^64 = 78 %), and the other two
	 * are not computed.
	 */
	for (int i = 0; i < 3; i++) {
		static const uint8_t rot[3] = { 14, 15, 12 };
		uint8_t h = (uint8_t)(hash >> (16 - 8 * i));
		word o[8], f[8];

		for (int r = 0; r < 4; r++)
			sbox(BYTE(s, SHIFTED(r, i)));
		mix_row(o, COLUMN(s, i), i + 1, BYTE(k, i + 1 + 4 * i));
		sbox(o);
		memcpy(f, BYTE(k, rot[i]), sizeof(f));
		sbox(f);
		for (int j = 0; j < 8; j++) {
			int b = 8 * (1 + i) + j;
			word out = o[j] ^ f[j] ^ k[b] ^ k[b + 32] ^ k[b + 64] ^ k[b + 96];

			/* All-ones in the lanes whose output bit equals the hash's. */
			m &= out ^ ((word)0 - (uint64_t)(((h >> j) & 1) ^ 1));
		}
		if (!m)
			break;
	}
	return m;
}

void irk_bs_set_key(struct irk_bs_group *g, unsigned lane, const uint8_t irk[16])
{
	word bit = (word)1 << lane;

	for (int i = 0; i < IRK_BS_WORDS; i++)
		g->w[i] = (g->w[i] & ~bit) | ((word)((irk[i / 8] >> (i % 8)) & 1) << lane);
}

void irk_bs_get_key(const struct irk_bs_group *g, unsigned lane, uint8_t irk[16])
{
	memset(irk, 0, 16);
	for (int i = 0; i < IRK_BS_WORDS; i++)
		irk[i / 8] |= (uint8_t)(((g->w[i] >> lane) & 1) << (i % 8));
}

int64_t irk_bs_search(const struct irk_bs_group *groups, uint32_t n_keys, uint32_t prand,
		      uint32_t hash)
{
	uint32_t n_groups = (n_keys + IRK_BS_LANES - 1) / IRK_BS_LANES;

	for (uint32_t gi = 0; gi < n_groups; gi++) {
		uint32_t left = n_keys - gi * IRK_BS_LANES;
		uint64_t m = irk_bs_match(&groups[gi], prand, hash);

		if (left < IRK_BS_LANES)
			m &= ((uint64_t)1 << left) - 1;
		/* Lowest lane first: the first match in key order wins. */
		while (m) {
			unsigned lane = (unsigned)__builtin_ctzll(m);
			uint8_t irk[16];

			irk_bs_get_key(&groups[gi], lane, irk);
			if (irk_ah_soft(irk, prand) == hash)
				return (int64_t)gi * IRK_BS_LANES + lane;
			m &= m - 1;
		}
	}
	return -1;
}
