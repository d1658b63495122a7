/**
 * Checks the audit trail: every chain, every event, every checkpoint, streaming in keyset batches
 * so that memory stays flat whatever the trail's size.
 *
 * Per chain, in sequence order:
 * - each event's hash is recomputed from its content ({@link canonicalEncoding}); a mismatch is
 *   `altered`, or `reordered` when the content hashes correctly under a neighbouring sequence number
 *   (two events swapped, or one moved);
 * - each event links to the previous event's hash, sequence numbers run without gaps (`deleted`) or
 *   repeats (`inserted`) and record times never go backwards (`reordered`);
 * - each checkpoint's Ed25519 signature is checked against the TRUSTED public keys (the `.pub`
 *   file, never the database) and the event at its sequence number must carry the signed hash.
 *   A chain rewritten and re-hashed by someone without the signing key is internally consistent,
 *   so this is what catches it (`rehashed`, naming the first event after the last checkpoint that
 *   still matches);
 * - the chain may not end before its last checkpoint, nor before/after the head that the chain
 *   registry (`audit_chain`) records (`deleted` / `inserted` tail);
 * - events after the last checkpoint are covered by the hash chain only. That is normal for a
 *   second or so (a live writer, a crashed instance) and reported as the "unsigned tail"; a tail
 *   spanning more than `maxUnsignedSpanMs` means checkpoints were removed (`unsigned-tail`).
 * - a chain whose first events are gone is accepted as archived (old partitions detached) only if
 *   a valid checkpoint signs exactly the hash its first remaining event links to.
 *
 * The verifier can run beside a live writer: it reads each chain's registered head first and checks
 * events up to it only; events appended meanwhile are left for the next run.
 */
import { sql, type Kysely } from 'kysely';
import { publicKeyFingerprint, type AuditPublicKey } from './audit-keys.ts';
import { ALGORITHM_LABELS, type HashAlgorithm, type SignatureAlgorithm } from './audit-crypto.ts';
import { GENESIS_HASH, eventHash } from './audit-encoding.ts';
import { checkpointAlgorithm, checkpointSignatureValid } from './audit-checkpoint.ts';
import { checkpointFromRow, type AuditRecord, type CheckpointRecord } from './audit-rows.ts';
import { CheckpointCursor, eventBatches, listChains, registeredHead } from './audit-verifier-reads.ts';

export type IntegrityProblemKind =
  | 'altered'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'rehashed'
  | 'bad-signature'
  | 'unsigned-tail';

export interface IntegrityProblem {
  readonly chainId: string;
  /** The first event (sequence number) the problem concerns. */
  readonly seq: number;
  readonly kind: IntegrityProblemKind;
  readonly message: string;
}

export interface ChainIntegrity {
  readonly chainId: string;
  /** Events checked (up to the head registered when the check started). */
  readonly events: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Checkpoints whose signature and hash were confirmed. */
  readonly checkpoints: number;
  readonly lastCheckpointSeq: number | null;
  /** Events after the last confirmed checkpoint: protected by the hash chain only. */
  readonly unsignedTail: number;
  /** Set when the chain's first events were retired (old partitions detached) up to this seq. */
  readonly archivedThrough: number | null;
  /** The chain hash algorithms of the events checked. */
  readonly hashAlgorithms: readonly HashAlgorithm[];
  /** The signature algorithms of the checkpoints confirmed. */
  readonly signatureAlgorithms: readonly SignatureAlgorithm[];
  readonly intact: boolean;
  readonly firstProblem?: IntegrityProblem;
}

export interface IntegrityReport {
  readonly intact: boolean;
  readonly checkedAt: string;
  readonly events: number;
  readonly checkpoints: number;
  readonly chains: readonly ChainIntegrity[];
  /** Every algorithm checked, by name: `SHA-256`, `Ed25519`, `SM3`, `SM2` (hashes first). */
  readonly algorithms: readonly string[];
  /** The first problem of the first damaged chain (chains in id order). */
  readonly firstProblem?: IntegrityProblem;
}

export interface VerifyOptions {
  /** Rows per keyset batch. Default 5000. */
  readonly batchSize?: number;
  /** Longest time span of events after the last checkpoint before it counts as tampering. Default 30 s. */
  readonly maxUnsignedSpanMs?: number;
  /** How far (in sequence numbers) to look for the original place of a moved event. Default 32. */
  readonly reorderWindow?: number;
}

/**
 * Verifies every chain in the store against the trusted public key(s).
 *
 * @example
 * const report = await verifyAudit(store, loadPublicKeys(`${config.audit.signingKeyFile}.pub`));
 * if (!report.intact) console.log(report.firstProblem);
 */
export async function verifyAudit(
  db: Kysely<any>,
  publicKey: AuditPublicKey | readonly AuditPublicKey[],
  options: VerifyOptions = {},
): Promise<IntegrityReport> {
  const keys = new Map<string, AuditPublicKey>();
  for (const key of Array.isArray(publicKey) ? publicKey : [publicKey as AuditPublicKey]) keys.set(publicKeyFingerprint(key), key);
  const settings: Required<VerifyOptions> = {
    batchSize: options.batchSize ?? 5000,
    maxUnsignedSpanMs: options.maxUnsignedSpanMs ?? 30_000,
    reorderWindow: options.reorderWindow ?? 32,
  };
  const checkedAt = new Date().toISOString();
  const chains: ChainIntegrity[] = [];
  for (const chainId of await listChains(db)) chains.push(await verifyChain(db, chainId, keys, settings));
  const damaged = chains.find((c) => !c.intact);
  return {
    intact: !damaged,
    checkedAt,
    events: chains.reduce((n, c) => n + c.events, 0),
    checkpoints: chains.reduce((n, c) => n + c.checkpoints, 0),
    chains,
    algorithms: algorithmsOf(chains),
    firstProblem: damaged?.firstProblem,
  };
}

/** The names of the algorithms the chains were checked with, hashes first, in a fixed order. */
function algorithmsOf(chains: readonly ChainIntegrity[]): string[] {
  const used = new Set<string>(chains.flatMap((c) => [...c.hashAlgorithms, ...c.signatureAlgorithms]));
  return (['sha256', 'sm3', 'ed25519', 'sm2'] as const).filter((a) => used.has(a)).map((a) => ALGORITHM_LABELS[a]);
}

async function verifyChain(
  db: Kysely<any>,
  chainId: string,
  keys: ReadonlyMap<string, AuditPublicKey>,
  settings: Required<VerifyOptions>,
): Promise<ChainIntegrity> {
  const registered = await registeredHead(db, chainId);
  const bound = registered ? registered.seq : Number.MAX_SAFE_INTEGER;
  let problem: IntegrityProblem | undefined;
  const report = (seq: number, kind: IntegrityProblemKind, message: string): void => {
    problem ??= { chainId, seq, kind, message };
  };

  const cps = new CheckpointCursor(db, chainId, settings.batchSize);
  let events = 0;
  let firstSeq: number | null = null;
  let prev: AuditRecord | undefined;
  let confirmed = 0;
  let lastGood = 0; // seq of the last confirmed checkpoint (or archive anchor)
  let lastGoodTime: Date | undefined;
  let archivedThrough: number | null = null;
  let tailStart: AuditRecord | undefined; // first event after `lastGood`
  const hashAlgorithms = new Set<HashAlgorithm>();
  const signatureAlgorithms = new Set<SignatureAlgorithm>();

  const checkSignature = (cp: CheckpointRecord): boolean => {
    const key = keys.get(cp.keyId);
    if (!key) {
      report(cp.seq, 'bad-signature', `checkpoint at seq ${cp.seq} is signed by key ${cp.keyId}, which is not in the trusted public key file`);
      return false;
    }
    if (!checkpointSignatureValid(cp, key)) {
      report(cp.seq, 'bad-signature', `checkpoint at seq ${cp.seq} has an invalid signature (checkpoint altered or forged)`);
      return false;
    }
    signatureAlgorithms.add(checkpointAlgorithm(cp)!);
    return true;
  };

  // Stored hashes by seq around the current position, to recognise an event moved from elsewhere.
  let window = new Map<number, string>();
  let previousWindow = new Map<number, string>();
  const storedHashAt = (seq: number): string | undefined => window.get(seq) ?? previousWindow.get(seq);

  const movedFrom = (e: AuditRecord): number | undefined => {
    for (let d = 1; d <= settings.reorderWindow; d++) {
      for (const s of [e.seq - d, e.seq + d]) {
        if (s < 1) continue;
        if (eventHash({ ...e, seq: s }) === e.hash) return s;
        const prevAt = s === 1 ? GENESIS_HASH : storedHashAt(s - 1);
        const hashAt = storedHashAt(s);
        if (prevAt && hashAt && eventHash({ ...e, seq: s, prevHash: prevAt }) === hashAt) return s;
      }
    }
    return undefined;
  };

  for await (const batch of eventBatches(db, chainId, bound, settings.batchSize)) {
    previousWindow = window;
    window = new Map(batch.map((e) => [e.seq, e.hash]));
    for (const e of batch) {
      events += 1;
      hashAlgorithms.add(e.hashAlg);
      if (problem) continue; // keep counting, stop judging: later findings would only be echoes

      if (!prev) {
        firstSeq = e.seq;
        // Checkpoints before the first event: an archived prefix, or events deleted from the start.
        let anchored = false;
        for (let cp = await cps.peek(); cp && cp.seq < e.seq; cp = await cps.peek()) {
          if (checkSignature(cp) && cp.seq === e.seq - 1 && cp.headHash === e.prevHash) {
            anchored = true;
            lastGood = cp.seq;
            lastGoodTime = cp.signedAt;
          }
          cps.next();
        }
        if (problem) continue;
        if (e.seq === 1) {
          if (e.prevHash !== GENESIS_HASH && eventHash(e) === e.hash) {
            report(1, 'altered', 'the first event does not start from the genesis hash');
            continue;
          }
        } else if (anchored) {
          archivedThrough = e.seq - 1;
        } else {
          report(1, 'deleted', `events 1..${e.seq - 1} are missing and no signed checkpoint anchors an archived prefix`);
          continue;
        }
      } else if (e.seq === prev.seq) {
        report(e.seq, 'inserted', `two events carry seq ${e.seq}: one was inserted`);
        continue;
      } else if (e.seq > prev.seq + 1) {
        const missing = e.seq - prev.seq - 1;
        report(prev.seq + 1, 'deleted', missing === 1 ? `event ${prev.seq + 1} is missing` : `events ${prev.seq + 1}..${e.seq - 1} are missing`);
        continue;
      } else if (e.time.getTime() < prev.time.getTime()) {
        report(e.seq, 'reordered', `event ${e.seq} was recorded before event ${prev.seq}: events were moved`);
        continue;
      }

      if (eventHash(e) !== e.hash) {
        const from = movedFrom(e);
        if (from !== undefined) report(e.seq, 'reordered', `the event stored at seq ${e.seq} was written as seq ${from}: events were swapped or moved`);
        else report(e.seq, 'altered', `event ${e.seq}'s content does not match its hash: a field was changed`);
        continue;
      }
      if (prev && e.prevHash !== prev.hash) {
        const elsewhere = [...window, ...previousWindow].find(([seq, hash]) => seq !== prev!.seq && hash === e.prevHash);
        if (elsewhere) report(e.seq, 'reordered', `event ${e.seq} links to event ${elsewhere[0]}, not to ${prev.seq}: events were reordered`);
        else report(prev.seq, 'altered', `event ${prev.seq} was altered and re-hashed: event ${e.seq} still links to its original hash`);
        continue;
      }

      // Checkpoints up to this event.
      for (let cp = await cps.peek(); cp && cp.seq <= e.seq; cp = await cps.peek()) {
        cps.next();
        if (!checkSignature(cp)) break;
        if (cp.seq < e.seq) continue; // its event is missing: reported above as deleted
        if (cp.headHash !== e.hash) {
          report(
            lastGood + 1,
            'rehashed',
            `events ${lastGood + 1}..${e.seq} were rewritten and re-hashed: the hash at seq ${e.seq} differs from the one signed at ${cp.signedAt.toISOString()}`,
          );
          break;
        }
        confirmed += 1;
        lastGood = cp.seq;
        lastGoodTime = cp.signedAt;
        tailStart = undefined;
      }
      if (problem) continue;
      if (e.seq > lastGood && !tailStart) tailStart = e;
      prev = e;
    }
  }

  const lastSeq = prev?.seq ?? null;
  if (!problem) {
    // A signed checkpoint beyond the last event: the tail was deleted, unless the writer has
    // legitimately moved on since the check started (then the registry's head reaches it now).
    const cp = await cps.peek();
    if (cp && checkSignature(cp)) {
      const reached = cp.seq <= bound ? undefined : await registeredHead(db, chainId);
      if (!reached || reached.seq < cp.seq) {
        report((lastSeq ?? 0) + 1, 'deleted', `the chain ends at seq ${lastSeq ?? 0} but a checkpoint signed seq ${cp.seq}`);
      }
    }
  }
  if (!problem) {
    if (!registered) {
      if (events > 0) report(firstSeq ?? 1, 'inserted', `chain ${chainId} is not in the chain registry: its events were inserted`);
    } else if (events === 0 && registered.seq > 0) {
      // Every month of this chain retired: fine if a signed checkpoint covers its registered head.
      const { rows } = await sql<Record<string, unknown>>`
        select * from audit_checkpoint where chain_id = ${chainId} and seq = ${registered.seq}`.execute(db);
      const cp = rows[0] ? checkpointFromRow(rows[0]) : undefined;
      if (cp && cp.headHash === registered.hash && keys.has(cp.keyId) && checkpointSignatureValid(cp, keys.get(cp.keyId)!)) {
        archivedThrough = registered.seq;
      } else {
        report(1, 'deleted', `the registry records ${registered.seq} events but none is stored`);
      }
    } else if (lastSeq !== null && lastSeq < registered.seq) {
      report(lastSeq + 1, 'deleted', `the chain ends at seq ${lastSeq} but its registered head is seq ${registered.seq}`);
    } else if (prev && lastSeq === registered.seq && prev.hash !== registered.hash) {
      report(lastGood + 1, 'rehashed', `events ${lastGood + 1}..${lastSeq} were rewritten: the last hash differs from the registered head`);
    }
  }
  if (!problem && registered) {
    // Events beyond the head registered at the start: legitimate if the head has moved there since.
    const beyond = await sql<{ seq: unknown }>`
      select seq from audit_event where chain_id = ${chainId} and seq > ${registered.seq} order by seq desc limit 1`.execute(db);
    if (beyond.rows.length > 0) {
      const now = await registeredHead(db, chainId);
      const maxSeq = Number(beyond.rows[0].seq);
      if (!now || maxSeq > now.seq) {
        report((now?.seq ?? registered.seq) + 1, 'inserted', `events up to seq ${maxSeq} lie beyond the chain's registered head: they were inserted`);
      }
    }
  }
  const unsignedTail = lastSeq !== null ? Math.max(0, lastSeq - lastGood) : 0;
  if (!problem && tailStart && prev && unsignedTail > 0) {
    const span = prev.time.getTime() - tailStart.time.getTime();
    if (span > settings.maxUnsignedSpanMs) {
      report(
        tailStart.seq,
        'unsigned-tail',
        `events ${tailStart.seq}..${prev.seq} span ${Math.round(span / 1000)} s without a signed checkpoint` +
          (lastGoodTime ? ` (last one signed ${lastGoodTime.toISOString()})` : '') +
          ': checkpoints were removed',
      );
    }
  }
  return {
    chainId,
    events,
    firstSeq,
    lastSeq,
    checkpoints: confirmed,
    lastCheckpointSeq: lastGood > 0 ? lastGood : null,
    unsignedTail,
    archivedThrough,
    hashAlgorithms: [...hashAlgorithms].sort(),
    signatureAlgorithms: [...signatureAlgorithms].sort(),
    intact: !problem,
    firstProblem: problem,
  };
}
