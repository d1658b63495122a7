/**
 * Signed checkpoints: the statement "chain `chainId` had head `headHash` at `seq`", signed with the
 * key kept outside the database, so that a chain rewritten and re-hashed by whoever can write the
 * database no longer matches what was signed.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.ts';
import type { CheckpointRecord } from './audit-rows.ts';

export function checkpointPayload(cp: Omit<CheckpointRecord, 'signature'>): string {
  return canonicalJson({
    chainId: cp.chainId,
    headHash: cp.headHash,
    keyId: cp.keyId,
    kind: cp.kind,
    seq: cp.seq,
    signedAt: cp.signedAt.toISOString(),
    v: 1,
  });
}

export function signCheckpoint(cp: Omit<CheckpointRecord, 'signature'>, privateKey: KeyObject): string {
  return crypto.sign(null, Buffer.from(checkpointPayload(cp), 'utf8'), privateKey).toString('base64');
}

export function checkpointSignatureValid(cp: CheckpointRecord, publicKey: KeyObject): boolean {
  try {
    return crypto.verify(null, Buffer.from(checkpointPayload(cp), 'utf8'), publicKey, Buffer.from(cp.signature, 'base64'));
  } catch {
    return false;
  }
}
