/**
 * A batch of placed events as the bytes `audit_append` receives: `[row,row,…]`, each row an event's
 * canonical encoding (UTF-8) with its hash put in front, `{"hash":"…",` + the encoding without its
 * `{`. Written straight into one buffer, and each event hashed over its own bytes
 * in that buffer.
 *
 * Why bytes and not strings: building each event's canonical text as a string, hashing it (which
 * encodes it to UTF-8 again), slicing it to put the hash in front and joining the rows copied every
 * event four or five times and left a megabyte of short-lived strings per batch for the garbage
 * collector, which together cost more than the hashing. Here each piece of the event is encoded
 * once, into its final place. The hashed bytes are exactly the canonical encoding's UTF-8 bytes:
 * a row is laid out as `{"hash":"` + 64 hex + `"` + the canonical encoding, which starts with `{`,
 * hashed there, and only then is that `{` overwritten with the `,` that joins the hash to the rest.
 */
import { CANONICAL_END, type CanonicalPieces } from './audit-encoding.ts';
import { digestBytesHex, type HashAlgorithm } from './audit-crypto.ts';

/** An event's canonical pieces and their UTF-8 size, measured once at append time. */
export interface EncodedPieces {
  readonly pieces: CanonicalPieces;
  /** UTF-8 bytes of head + middle + tail. */
  readonly bytes: number;
}

export function encodedPieces(pieces: CanonicalPieces): EncodedPieces {
  return { pieces, bytes: Buffer.byteLength(pieces.head, 'utf8') + Buffer.byteLength(pieces.middle, 'utf8') + Buffer.byteLength(pieces.tail, 'utf8') };
}

/** The encoded batch, and the hash of its last event (the chain's head once it commits). */
export interface BatchBytes {
  readonly payload: Buffer;
  readonly lastHash: string;
}

const ROW_HEAD = '{"hash":"';
const HASH_HEX = 64;
/** `{"hash":"` + hash + `"`: where the canonical encoding starts within a row. */
const CANONICAL_AT = ROW_HEAD.length + HASH_HEX + 1;
/** An ISO-8601 UTC instant with milliseconds, as `Date.toISOString` writes years 0000–9999. */
const ISO_LENGTH = 24;

/**
 * Places `events` after the event with `prevHash` at `prevSeq`, all recorded at `timeIso`, and
 * encodes them as one JSON array. `hashAlgorithm` hashes the chain.
 */
export function encodeBatch(
  events: ArrayLike<{ readonly event: EncodedPieces }>,
  hashAlgorithm: HashAlgorithm,
  prevHash: string,
  prevSeq: number,
  timeIso: string,
): BatchBytes {
  if (timeIso.length !== ISO_LENGTH) throw new Error(`unexpected record time ${timeIso}`);
  // Per row: its hash, the previous hash, the time, the end, and the `,` or `]` after it.
  const fixed = CANONICAL_AT + HASH_HEX + ISO_LENGTH + CANONICAL_END.length + 1;
  let size = events.length === 0 ? 2 : 1;
  for (let i = 0; i < events.length; i++) size += fixed + events[i]!.event.bytes + String(prevSeq + i + 1).length;
  const buf = Buffer.allocUnsafe(size);
  let at = buf.write('[', 0, 'latin1');
  let prev = prevHash;
  for (let i = 0; i < events.length; i++) {
    const { pieces } = events[i]!.event;
    if (i > 0) at += buf.write(',', at, 'latin1');
    const row = at;
    at += buf.write(ROW_HEAD, at, 'latin1');
    at += HASH_HEX; // filled in once hashed
    at += buf.write('"', at, 'latin1');
    const canonical = at;
    at += buf.write(pieces.head, at, 'utf8');
    at += buf.write(prev, at, 'latin1');
    at += buf.write(pieces.middle, at, 'utf8');
    at += buf.write(String(prevSeq + i + 1), at, 'latin1');
    at += buf.write(pieces.tail, at, 'utf8');
    at += buf.write(timeIso, at, 'latin1');
    at += buf.write(CANONICAL_END, at, 'latin1');
    const hash = digestBytesHex(hashAlgorithm, buf.subarray(canonical, at));
    buf.write(hash, row + ROW_HEAD.length, 'latin1');
    buf[canonical] = 0x2c; // ','
    prev = hash;
  }
  at += buf.write(']', at, 'latin1');
  if (at !== size) throw new Error(`audit batch encoded to ${at} bytes, ${size} expected`);
  return { payload: buf, lastHash: prev };
}
