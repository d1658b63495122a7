/**
 * SM2 digital signatures as GB/T 32918.2-2016 defines them, on the recommended curve of
 * GB/T 32918.5, with SM3 (GB/T 32905) as the hash and the user's distinguishing identifier in Z.
 *
 * Why not `crypto.sign` alone: Node 20's OpenSSL 3.0 signs with an SM2 key only when the key was
 * decoded from a file as SM2, and then computes Z with an EMPTY identifier (OpenSSL has no default
 * id and Node cannot set one, `EVP_PKEY_CTX_set1_id` is not exposed); a freshly generated
 * `ec`/`SM2` KeyObject signs ECDSA, not SM2. Neither is the GB/T signature with the default id
 * `1234567812345678` that other SM2 implementations verify. So this module computes Z and e itself
 * and follows the standard's steps; OpenSSL still does the parts that need care: the random `k`
 * and the point `[k]G` (an ECDH key pair on the SM2 curve), and SM3. The two scalar steps with the
 * private key (`(1 + d)⁻¹` and `k − r·d` mod n) are BigInt arithmetic, not constant-time: the
 * gateway signs a checkpoint about once a second, in the background, never in answer to a caller,
 * so no caller can time them. Verification works on public values only, with plain BigInt point
 * arithmetic.
 *
 * Signatures are DER `SEQUENCE { INTEGER r, INTEGER s }`, as OpenSSL and sm-crypto (`der: true`) write them.
 */
import crypto from 'node:crypto';

/** The default distinguishing identifier of GB/T 32918 (and GM/T 0009): used unless one is agreed. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

const hex = (h: string): bigint => BigInt(`0x${h}`);
/** The recommended curve, GB/T 32918.5-2017. */
export const SM2_CURVE = {
  p: hex('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF'),
  a: hex('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC'),
  b: hex('28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93'),
  n: hex('FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123'),
  gx: hex('32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7'),
  gy: hex('BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0'),
} as const;
const { p, a, b, n } = SM2_CURVE;

/** An affine point on the curve. */
export interface Sm2Point {
  readonly x: bigint;
  readonly y: bigint;
}

const mod = (v: bigint, m: bigint): bigint => {
  const r = v % m;
  return r < 0n ? r + m : r;
};
function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let x = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * x) % m;
    x = (x * x) % m;
  }
  return result;
}
/** Inverse modulo a prime (p and n both are). */
const inv = (v: bigint, m: bigint): bigint => modPow(v, m - 2n, m);

export const toBytes32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const fromBytes = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : hex(Buffer.from(bytes).toString('hex')));
const sm3 = (...parts: Uint8Array[]): Buffer => {
  const h = crypto.createHash('sm3');
  for (const part of parts) h.update(part);
  return h.digest();
};

export function isOnCurve(P: Sm2Point): boolean {
  if (P.x < 0n || P.x >= p || P.y < 0n || P.y >= p) return false;
  return mod(P.y * P.y - (P.x * P.x * P.x + a * P.x + b), p) === 0n;
}

/**
 * Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5), ENTL_A being the
 * identifier's length in bits as two bytes. The identifier defaults to {@link SM2_DEFAULT_USER_ID}.
 */
export function sm2Z(publicKey: Sm2Point, userId: string = SM2_DEFAULT_USER_ID): Buffer {
  const id = Buffer.from(userId, 'utf8');
  if (id.length * 8 > 0xffff) throw new RangeError('SM2 user id too long');
  const entl = Buffer.from([(id.length * 8) >> 8, (id.length * 8) & 0xff]);
  return sm3(entl, id, toBytes32(a), toBytes32(b), toBytes32(SM2_CURVE.gx), toBytes32(SM2_CURVE.gy), toBytes32(publicKey.x), toBytes32(publicKey.y));
}

/** e = SM3(Z_A ‖ M) as an integer (GB/T 32918.2 §6.1 A1-A2). */
export function sm2Digest(message: Uint8Array, publicKey: Sm2Point, userId: string = SM2_DEFAULT_USER_ID): bigint {
  return fromBytes(sm3(sm2Z(publicKey, userId), message));
}

/** Signs `message` with private key `d` (whose public key is `publicKey`): GB/T 32918.2 §6.1. */
export function sm2Sign(message: Uint8Array, d: bigint, publicKey: Sm2Point, userId: string = SM2_DEFAULT_USER_ID): Buffer {
  if (d < 1n || d >= n - 1n) throw new RangeError('SM2 private key out of range');
  const e = sm2Digest(message, publicKey, userId);
  const dInv = inv(1n + d, n);
  for (;;) {
    // A3-A4: k uniformly random in [1, n-1] and (x1, y1) = [k]G, both by OpenSSL.
    const ecdh = crypto.createECDH('SM2');
    ecdh.generateKeys();
    const k = fromBytes(ecdh.getPrivateKey());
    const x1 = fromBytes(ecdh.getPublicKey().subarray(1, 33));
    const r = mod(e + x1, n); // A5
    if (r === 0n || r + k === n) continue;
    const s = mod(dInv * mod(k - r * d, n), n); // A6
    if (s === 0n) continue;
    return encodeSignature(r, s);
  }
}

/** Checks an SM2 signature: GB/T 32918.2 §7.1. False for anything malformed. */
export function sm2Verify(message: Uint8Array, signature: Uint8Array, publicKey: Sm2Point, userId: string = SM2_DEFAULT_USER_ID): boolean {
  const rs = decodeSignature(signature);
  if (!rs || !isOnCurve(publicKey)) return false;
  const { r, s } = rs;
  if (r < 1n || r >= n || s < 1n || s >= n) return false; // B1-B2
  const e = sm2Digest(message, publicKey, userId); // B3-B4
  const t = mod(r + s, n); // B5
  if (t === 0n) return false;
  const sG = sm2PublicFromPrivate(s); // [s]G by OpenSSL: faster, and s is public here
  const point = toAffine(addJ({ X: sG.x, Y: sG.y, Z: 1n }, multiply(publicKey, t))); // B6
  if (!point) return false;
  return mod(e + point.x, n) === r; // B7
}

/** Derives the public key [d]G of a private key (OpenSSL's point multiplication). */
export function sm2PublicFromPrivate(d: bigint): Sm2Point {
  const ecdh = crypto.createECDH('SM2');
  ecdh.setPrivateKey(toBytes32(d));
  const pub = ecdh.getPublicKey();
  return { x: fromBytes(pub.subarray(1, 33)), y: fromBytes(pub.subarray(33, 65)) };
}

// --- DER signature ----------------------------------------------------------------------------

function derInteger(v: bigint): Buffer {
  let bytes = Buffer.from(v.toString(16).padStart(2, '0').replace(/^(.(..)*)$/, '0$1'), 'hex');
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

export function encodeSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** Strict DER: one SEQUENCE of two positive minimal INTEGERs, nothing after it. */
export function decodeSignature(der: Uint8Array): { r: bigint; s: bigint } | undefined {
  const bytes = Buffer.from(der);
  if (bytes.length < 8 || bytes[0] !== 0x30 || bytes[1] !== bytes.length - 2) return undefined;
  let at = 2;
  const integer = (): bigint | undefined => {
    if (bytes[at] !== 0x02) return undefined;
    const len = bytes[at + 1]!;
    const start = at + 2;
    if (len < 1 || len > 33 || start + len > bytes.length) return undefined;
    const value = bytes.subarray(start, start + len);
    if (value[0]! & 0x80) return undefined; // negative
    if (len > 1 && value[0] === 0 && !(value[1]! & 0x80)) return undefined; // not minimal
    at = start + len;
    return fromBytes(value);
  };
  const r = integer();
  const s = r === undefined ? undefined : integer();
  if (r === undefined || s === undefined || at !== bytes.length) return undefined;
  return { r, s };
}

// --- Point arithmetic on public values (Jacobian coordinates) -----------------------------------

interface Jacobian {
  readonly X: bigint;
  readonly Y: bigint;
  readonly Z: bigint;
}
const INFINITY: Jacobian = { X: 1n, Y: 1n, Z: 0n };

function doubleJ(P: Jacobian): Jacobian {
  if (P.Z === 0n || P.Y === 0n) return INFINITY;
  const Y2 = (P.Y * P.Y) % p;
  const S = (4n * P.X * Y2) % p;
  const Z2 = (P.Z * P.Z) % p;
  const M = mod(3n * P.X * P.X + a * ((Z2 * Z2) % p), p);
  const X = mod(M * M - 2n * S, p);
  const Y = mod(M * (S - X) - 8n * ((Y2 * Y2) % p), p);
  return { X, Y, Z: (2n * P.Y * P.Z) % p };
}

function addJ(P: Jacobian, Q: Jacobian): Jacobian {
  if (P.Z === 0n) return Q;
  if (Q.Z === 0n) return P;
  const PZ2 = (P.Z * P.Z) % p;
  const QZ2 = (Q.Z * Q.Z) % p;
  const U1 = (P.X * QZ2) % p;
  const U2 = (Q.X * PZ2) % p;
  const S1 = (((P.Y * QZ2) % p) * Q.Z) % p;
  const S2 = (((Q.Y * PZ2) % p) * P.Z) % p;
  if (U1 === U2) return S1 === S2 ? doubleJ(P) : INFINITY;
  const H = mod(U2 - U1, p);
  const R = mod(S2 - S1, p);
  const H2 = (H * H) % p;
  const H3 = (H2 * H) % p;
  const U1H2 = (U1 * H2) % p;
  const X = mod(R * R - H3 - 2n * U1H2, p);
  const Y = mod(R * (U1H2 - X) - S1 * H3, p);
  return { X, Y, Z: (((H * P.Z) % p) * Q.Z) % p };
}

/** [k]P, double-and-add: for verification, where every input is public. */
function multiply(P: Sm2Point, k: bigint): Jacobian {
  let result = INFINITY;
  const base: Jacobian = { X: P.x, Y: P.y, Z: 1n };
  for (let i = BigInt(k.toString(2).length - 1); i >= 0n; i--) {
    result = doubleJ(result);
    if ((k >> i) & 1n) result = addJ(result, base);
  }
  return result;
}

function toAffine(P: Jacobian): Sm2Point | undefined {
  if (P.Z === 0n) return undefined;
  const zInv = inv(P.Z, p);
  const zInv2 = (zInv * zInv) % p;
  return { x: (P.X * zInv2) % p, y: (((P.Y * zInv2) % p) * zInv) % p };
}
