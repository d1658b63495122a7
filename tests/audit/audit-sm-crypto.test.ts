/**
 * The national algorithms of the trail (`AUDIT_CRYPTO=sm`): SM3 against the GB/T 32905 test
 * vectors, SM2 signatures (GB/T 32918, SM3 digest, default user id `1234567812345678`) against the
 * independent `sm-crypto` implementation in both directions, the SM2 key files, and SM2-signed
 * checkpoints.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import sm from 'sm-crypto';
import { digestHex, parseAuditCrypto } from '../../audit/audit-crypto.ts';
import { SM2_DEFAULT_USER_ID, decodeSignature, sm2Sign, sm2Verify, sm2Z, toBytes32, type Sm2Point } from '../../audit/sm2.ts';
import { sm2PrivateKeyFromPkcs8, pemBlocks } from '../../audit/sm2-keys.ts';
import { checkpointAlgorithm, checkpointPayload, checkpointSignatureValid, signCheckpoint } from '../../audit/audit-checkpoint.ts';
import {
  loadAuditKeys,
  loadPublicKeys,
  loadSigningKey,
  publicKeyFileFor,
  publicKeyFingerprint,
  type Sm2SigningKey,
} from '../../audit/audit-keys.ts';
import type { CheckpointRecord } from '../../audit/audit-rows.ts';

const tmp = (name: string) => fs.mkdtempSync(path.join(os.tmpdir(), `lianqiao-sm-${name}-`));
const pointHex = (P: Sm2Point) => `04${P.x.toString(16).padStart(64, '0')}${P.y.toString(16).padStart(64, '0')}`;
const bytes = (b: Uint8Array) => Array.from(b);

/** A fresh SM2 signing key through the product's own key file path. */
function sm2Key(): Sm2SigningKey {
  const key = loadSigningKey(path.join(tmp('key'), 'sm2.pem'), { create: true, algorithm: 'sm2' });
  if (key.algorithm !== 'sm2') throw new Error('expected an SM2 key');
  return key;
}

describe('SM3 (GB/T 32905-2016, appendix A)', () => {
  it('hashes "abc" to the standard value', () => {
    expect(digestHex('sm3', 'abc')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  });

  it('hashes the 64-byte "abcd"×16 to the standard value', () => {
    expect(digestHex('sm3', 'abcd'.repeat(16))).toBe('debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732');
  });

  it('agrees with sm-crypto on arbitrary UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(digestHex('sm3', text)).toBe(sm.sm3(text));
      }),
      { numRuns: 200 },
    );
  });
});

describe('AUDIT_CRYPTO', () => {
  it('accepts default and sm, refuses anything else', () => {
    expect(parseAuditCrypto(undefined)).toBe('default');
    expect(parseAuditCrypto('')).toBe('default');
    expect(parseAuditCrypto('default')).toBe('default');
    expect(parseAuditCrypto('SM')).toBe('sm');
    expect(parseAuditCrypto('sm2')).toBeUndefined();
    expect(parseAuditCrypto('gm')).toBeUndefined();
  });
});

describe('SM2 (GB/T 32918.2-2016)', () => {
  const key = sm2Key();
  const d = key.privateKey.d;
  const P = key.publicKey.point;
  const dHex = d.toString(16).padStart(64, '0');

  it('derives the same public key from the private key as sm-crypto', () => {
    expect(sm.sm2.getPublicKeyFromPrivateKey(dHex)).toBe(pointHex(P));
  });

  it('computes Z over ENTL ‖ ID ‖ a ‖ b ‖ G ‖ P with the default id 1234567812345678', () => {
    expect(SM2_DEFAULT_USER_ID).toBe('1234567812345678');
    const curve = Buffer.from(
      'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC' +
        '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93' +
        '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7' +
        'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0',
      'hex',
    );
    const expected = crypto
      .createHash('sm3')
      .update(Buffer.from([0x00, 0x80])) // ENTL: 16 bytes = 128 bits
      .update('1234567812345678')
      .update(curve)
      .update(toBytes32(P.x))
      .update(toBytes32(P.y))
      .digest();
    expect(sm2Z(P)).toEqual(expected);
    expect(sm2Z(P, 'ALICE123@YAHOO.COM')).not.toEqual(expected);
  });

  it('makes signatures that sm-crypto verifies with the default id, and only with it', () => {
    const message = Buffer.from('{"chainId":"gw-1","headHash":"ab","seq":7}', 'utf8');
    const signature = sm2Sign(message, d, P).toString('hex');
    expect(sm.sm2.doVerifySignature(bytes(message), signature, pointHex(P), { der: true, hash: true })).toBe(true);
    expect(sm.sm2.doVerifySignature(bytes(message), signature, pointHex(P), { der: true, hash: true, userId: '1234567812345678' })).toBe(true);
    // Not the bare SM3(M) of some libraries, nor another id: Z with the default id is in it.
    expect(sm.sm2.doVerifySignature(bytes(message), signature, pointHex(P), { der: true, hash: true, userId: 'ALICE123@YAHOO.COM' })).toBe(false);
    expect(sm.sm2.doVerifySignature(bytes(message), signature, pointHex(P), { der: true, hash: false })).toBe(false);
  });

  it('verifies signatures made by sm-crypto, and refuses them for another message, key or id', () => {
    const message = Buffer.from('审计检查点 checkpoint', 'utf8');
    const theirs = Buffer.from(sm.sm2.doSignature(bytes(message), dHex, { der: true, hash: true, publicKey: pointHex(P) }), 'hex');
    expect(sm2Verify(message, theirs, P)).toBe(true);
    expect(sm2Verify(Buffer.from('审计检查点 checkpoinT', 'utf8'), theirs, P)).toBe(false);
    expect(sm2Verify(message, theirs, sm2Key().publicKey.point)).toBe(false);
    expect(sm2Verify(message, theirs, P, 'ALICE123@YAHOO.COM')).toBe(false);
  });

  it('property: for any message, ours verify with sm-crypto and theirs with ours; a flipped bit fails', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(), (message, bit) => {
        const ours = sm2Sign(message, d, P);
        expect(sm.sm2.doVerifySignature(bytes(message), ours.toString('hex'), pointHex(P), { der: true, hash: true })).toBe(true);
        const theirs = sm.sm2.doSignature(bytes(message), dHex, { der: true, hash: true, publicKey: pointHex(P) });
        expect(sm2Verify(message, Buffer.from(theirs, 'hex'), P)).toBe(true);
        const flipped = Buffer.from(ours);
        flipped[bit % flipped.length] ^= 1 << bit % 8;
        expect(sm2Verify(message, flipped, P)).toBe(false);
      }),
      { numRuns: 25 },
    );
  });

  it('is not what Node 20 signs with an SM2 key by itself (its Z uses an empty id), which is why Z is computed here', () => {
    // An SM2 PEM decoded by OpenSSL signs SM2 with SM3, but with Z over an EMPTY id.
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' });
    const reloaded = crypto.createPrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const nodeKey = sm2PrivateKeyFromPkcs8(der);
    const message = Buffer.from('payload');
    const nodeSignature = crypto.sign(null, message, reloaded);
    expect(sm2Verify(message, nodeSignature, nodeKey.publicKey.point)).toBe(false);
    expect(sm2Verify(message, nodeSignature, nodeKey.publicKey.point, '')).toBe(true);
  });

  it('refuses malformed signatures', () => {
    const message = Buffer.from('m');
    const good = sm2Sign(message, d, P);
    expect(decodeSignature(good)).toBeDefined();
    expect(sm2Verify(message, Buffer.alloc(0), P)).toBe(false);
    expect(sm2Verify(message, Buffer.concat([good, Buffer.from([0])]), P)).toBe(false);
    expect(sm2Verify(message, Buffer.from('3006020100020100', 'hex'), P)).toBe(false); // r = s = 0
    expect(sm2Verify(message, good, { x: P.x, y: P.y + 1n })).toBe(false); // not a curve point
  });
});

describe('SM2 key files and checkpoints', () => {
  it('writes PKCS#8 and SPKI PEM that OpenSSL reads as SM2, with an sm2: key id', () => {
    const dir = tmp('files');
    const file = path.join(dir, 'audit-sm2-signing-key.pem');
    const key = loadSigningKey(file, { create: true, algorithm: 'sm2' });
    expect(key.algorithm).toBe('sm2');
    expect(key.keyId).toMatch(/^sm2:[0-9a-f]{64}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const pub = crypto.createPublicKey(fs.readFileSync(publicKeyFileFor(file)));
    const spki = pub.export({ type: 'spki', format: 'der' });
    expect(spki.subarray(-65).toString('hex')).toBe(pointHex((key as Sm2SigningKey).publicKey.point));
    // Loading again gives the same key; the trusted file names it.
    expect(loadSigningKey(file, { algorithm: 'sm2' }).keyId).toBe(key.keyId);
    const [trusted] = loadPublicKeys(publicKeyFileFor(file));
    expect(publicKeyFingerprint(trusted!)).toBe(key.keyId);
    // An SM2 file is never taken for the Ed25519 key, nor the other way round.
    expect(() => loadSigningKey(file)).toThrow(/SM2/);
    const ed = path.join(dir, 'ed.pem');
    loadSigningKey(ed, { create: true });
    expect(() => loadSigningKey(ed, { algorithm: 'sm2' })).toThrow(/not an SM2/);
    expect(pemBlocks(fs.readFileSync(file, 'utf8'), 'PRIVATE KEY')).toHaveLength(1);
  });

  it('AUDIT_CRYPTO=sm signs with the SM2 key and trusts both .pub files', () => {
    const dir = tmp('config');
    const audit = {
      signingKeyFile: path.join(dir, 'audit-signing-key.pem'),
      subjectKeyFile: path.join(dir, 'audit-subject-key'),
      sm2SigningKeyFile: path.join(dir, 'audit-sm2-signing-key.pem'),
    };
    const before = loadAuditKeys({ audit }, { create: true });
    expect(before.signingKey.algorithm).toBe('ed25519');
    const after = loadAuditKeys({ audit: { ...audit, crypto: 'sm' } }, { create: true });
    expect(after.signingKey.algorithm).toBe('sm2');
    expect(after.publicKey.map(publicKeyFingerprint).sort()).toEqual([before.signingKey.keyId, after.signingKey.keyId].sort());
  });

  it('signs checkpoints with SM2 that sm-crypto verifies over the payload, and accepts theirs', () => {
    const key = sm2Key();
    const unsigned: Omit<CheckpointRecord, 'signature'> = {
      chainId: 'gw-sm',
      seq: 12,
      headHash: 'c'.repeat(64),
      signedAt: new Date('2026-12-04T10:00:00.000Z'),
      kind: 'periodic',
      keyId: key.keyId,
    };
    expect(checkpointAlgorithm(unsigned)).toBe('sm2');
    const cp = { ...unsigned, signature: signCheckpoint(unsigned, key) };
    const payload = bytes(Buffer.from(checkpointPayload(unsigned), 'utf8'));
    const signatureHex = Buffer.from(cp.signature, 'base64').toString('hex');
    expect(sm.sm2.doVerifySignature(payload, signatureHex, pointHex(key.publicKey.point), { der: true, hash: true })).toBe(true);
    expect(checkpointSignatureValid(cp, key.publicKey)).toBe(true);
    expect(checkpointSignatureValid({ ...cp, seq: 13 }, key.publicKey)).toBe(false);

    const dHex = key.privateKey.d.toString(16).padStart(64, '0');
    const theirs = sm.sm2.doSignature(payload, dHex, { der: true, hash: true, publicKey: pointHex(key.publicKey.point) });
    expect(checkpointSignatureValid({ ...unsigned, signature: Buffer.from(theirs, 'hex').toString('base64') }, key.publicKey)).toBe(true);
  });

  it('never accepts a checkpoint under a key of the other algorithm', () => {
    const smKey = sm2Key();
    const ed = loadSigningKey(path.join(tmp('ed'), 'ed.pem'), { create: true });
    const unsigned = { chainId: 'c', seq: 1, headHash: 'a'.repeat(64), signedAt: new Date(), kind: 'close', keyId: ed.keyId };
    const cp = { ...unsigned, signature: signCheckpoint(unsigned, ed) };
    expect(checkpointSignatureValid(cp, ed.publicKey)).toBe(true);
    expect(checkpointSignatureValid(cp, smKey.publicKey)).toBe(false);
    const smUnsigned = { ...unsigned, keyId: smKey.keyId };
    const smCp = { ...smUnsigned, signature: signCheckpoint(smUnsigned, smKey) };
    expect(checkpointSignatureValid(smCp, smKey.publicKey)).toBe(true);
    expect(checkpointSignatureValid(smCp, ed.publicKey)).toBe(false);
  });
});
