/**
 * SM2 key files: PKCS#8 (private) and SPKI (public) PEM, the formats OpenSSL and other SM2 tools
 * read and write, on the recommended curve (OID 1.2.156.10197.1.301).
 *
 * The files are parsed here rather than through `crypto.createPrivateKey`: Node 20 decodes such
 * a key as an SM2 key it cannot fully handle (`asymmetricKeyType` undefined, and exporting it
 * aborts the process). Generation still uses OpenSSL (`generateKeyPairSync('ec', { namedCurve:
 * 'SM2' })`), whose freshly made key exports fine.
 */
import crypto from 'node:crypto';
import { SM2_CURVE, isOnCurve, sm2PublicFromPrivate, toBytes32, type Sm2Point } from './sm2.ts';

export interface Sm2PublicKey {
  readonly algorithm: 'sm2';
  readonly point: Sm2Point;
  /** The SPKI DER encoding (what the key id is a fingerprint of). */
  readonly spki: Buffer;
}

export interface Sm2PrivateKey {
  readonly algorithm: 'sm2';
  readonly d: bigint;
  readonly publicKey: Sm2PublicKey;
}

/** The curve's OID inside an EC key's algorithm parameters: 1.2.156.10197.1.301. */
const SM2_CURVE_OID = Buffer.from('06082a811ccf5501822d', 'hex');
/** SPKI of an uncompressed SM2 point: everything up to the 65 point bytes (04 ‖ x ‖ y). */
const SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');
/** ECPrivateKey (RFC 5915): version 1, then the 32-byte private key as an OCTET STRING. */
const EC_PRIVATE_KEY_START = Buffer.from('0201010420', 'hex');

export class Sm2KeyError extends Error {
  override readonly name = 'Sm2KeyError';
}

/** The DER inside each PEM block of `label` in `text`. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

/** Whether a key's DER names the SM2 curve. */
export function isSm2Der(der: Buffer): boolean {
  return der.includes(SM2_CURVE_OID);
}

export function sm2PublicKey(point: Sm2Point): Sm2PublicKey {
  if (!isOnCurve(point)) throw new Sm2KeyError('the SM2 public key is not a point of the curve');
  const spki = Buffer.concat([SPKI_PREFIX, Buffer.from([0x04]), toBytes32(point.x), toBytes32(point.y)]);
  return { algorithm: 'sm2', point, spki };
}

/** An SM2 public key from its SPKI DER (uncompressed point). */
export function sm2PublicKeyFromSpki(der: Buffer): Sm2PublicKey {
  if (der.length !== SPKI_PREFIX.length + 65 || !der.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX) || der[SPKI_PREFIX.length] !== 0x04) {
    throw new Sm2KeyError('not an SM2 public key (SPKI with an uncompressed point)');
  }
  const at = SPKI_PREFIX.length + 1;
  const x = BigInt(`0x${der.subarray(at, at + 32).toString('hex')}`);
  const y = BigInt(`0x${der.subarray(at + 32, at + 64).toString('hex')}`);
  return sm2PublicKey({ x, y });
}

/** An SM2 private key from its PKCS#8 DER; its public key is derived from it. */
export function sm2PrivateKeyFromPkcs8(der: Buffer): Sm2PrivateKey {
  const oid = der.indexOf(SM2_CURVE_OID);
  const start = oid < 0 ? -1 : der.indexOf(EC_PRIVATE_KEY_START, oid + SM2_CURVE_OID.length);
  if (start < 0 || start + EC_PRIVATE_KEY_START.length + 32 > der.length) throw new Sm2KeyError('not an SM2 private key (PKCS#8)');
  const from = start + EC_PRIVATE_KEY_START.length;
  const d = BigInt(`0x${der.subarray(from, from + 32).toString('hex')}`);
  if (d < 1n || d >= SM2_CURVE.n - 1n) throw new Sm2KeyError('the SM2 private key is out of range');
  return { algorithm: 'sm2', d, publicKey: sm2PublicKey(sm2PublicFromPrivate(d)) };
}

/** A new SM2 key pair as PKCS#8 and SPKI PEM (made by OpenSSL). */
export function generateSm2KeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function sm2PublicKeyPem(key: Sm2PublicKey): string {
  const lines = key.spki.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`;
}

/** `sm2:` + hex SM3 of the SPKI DER (the national hash for the national key). */
export function sm2Fingerprint(key: Sm2PublicKey): string {
  return `sm2:${crypto.createHash('sm3').update(key.spki).digest('hex')}`;
}
