/**
 * Duties, grants and their Casbin lines in the gateway store (kysely: PGlite or PostgreSQL).
 *
 * Grants are the data owners' words; Casbin lines are derived from them in the same transaction,
 * so the two never disagree. Every change bumps `policy_version`, which instances compare to know
 * they are stale even when a change notification was lost.
 */
import { sql, type CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { Condition } from '../core/conditions.ts';
import type { DatasetName } from '../core/datasets.ts';
import { admitGrant } from './grant-admission.ts';
import type { DutyDef, GrantDef } from './policy-definitions.ts';
import { dutyDisclosureColumns, dutyDisclosureFromRow } from './duty-disclosure.ts';
import { canonicalJson } from '../core/canonical-json.ts';

export interface StoredGrant extends GrantDef {
  readonly origin: 'file' | 'api';
  readonly createdBy: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

/**
 * The Casbin action of each access level. `read_aggregate` is never asked by the grant compiler,
 * so an aggregate field can never be read through the ordinary plan, only counted in statistics.
 */
const CASBIN_ACT = { full: 'read', masked: 'read_masked', aggregate: 'read_aggregate' } as const;

/** Casbin lines (`p, sub, dom, obj, act, eft, grant`) for one grant. */
export function casbinLines(grant: GrantDef): string[][] {
  const subjects = grant.streets === 'all' ? ['*'] : grant.streets;
  const lines: string[][] = [];
  for (const sub of subjects) {
    for (const [field, access] of Object.entries(grant.fields)) {
      lines.push([sub, grant.duty, `${grant.dataset}.${field}`, CASBIN_ACT[access], 'allow', grant.id]);
    }
  }
  return lines;
}

function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString();
}

/** jsonb columns come back parsed from both drivers (pg and PGlite). */
function parseJson<T>(value: unknown): T {
  return value as T;
}

function rowToGrant(row: Record<string, unknown>): StoredGrant {
  return {
    id: row.id as string,
    owner: row.owner as string,
    dataset: row.dataset as DatasetName,
    duty: row.duty as string,
    streets: parseJson<'all' | string[]>(row.streets),
    fields: parseJson<GrantDef['fields']>(row.fields),
    rows: row.row_condition === null || row.row_condition === undefined ? null : parseJson<Condition>(row.row_condition),
    validFrom: toIso(row.valid_from),
    validUntil: toIso(row.valid_until),
    emergency: (row.emergency as GrantDef['emergency'] | undefined) ?? null,
    origin: row.origin as 'file' | 'api',
    createdBy: row.created_by as string,
    createdAt: toIso(row.created_at)!,
    revokedAt: toIso(row.revoked_at),
    revokedBy: (row.revoked_by as string | null) ?? null,
  };
}

function rowToDuty(row: Record<string, unknown>): DutyDef {
  return {
    id: row.id as string,
    title: row.title as string,
    delegatedBy: row.delegated_by as string,
    streets: parseJson<'all' | string[]>(row.streets),
    ...dutyDisclosureFromRow(row),
  };
}

/**
 * The columns of a grant. Its validity bounds go in as instants, converted by the one admission
 * rule (`admitGrant`): a bound written `2025-12-31` or `2025-12-31T18:00` means city time, and
 * handing that text to `timestamptz` would read it in the session's zone instead.
 */
function grantValues(written: GrantDef) {
  const grant = admitGrant(written);
  return {
    owner: grant.owner,
    dataset: grant.dataset,
    duty: grant.duty,
    streets: JSON.stringify(grant.streets),
    fields: JSON.stringify(grant.fields),
    row_condition: grant.rows === null ? null : JSON.stringify(grant.rows),
    valid_from: grant.validFrom,
    valid_until: grant.validUntil,
    // The column comes with policies/migrations/0006-emergency.ts.
    emergency: grant.emergency ? JSON.stringify(grant.emergency) : null,
  };
}

export class PolicyStore {
  constructor(private readonly db: Kysely<any>) {}

  /** Every read asks (Authorizer.ensureCurrent): its statement is compiled once. */
  #versionQuery: CompiledQuery | undefined;

  async version(): Promise<number> {
    this.#versionQuery ??= this.db.selectFrom('policy_version').select('version').where('id', '=', 1).compile();
    const { rows } = await this.db.executeQuery<{ version: unknown }>(this.#versionQuery);
    return Number(rows[0]?.version ?? 0);
  }

  async duties(): Promise<DutyDef[]> {
    const rows = await this.db.selectFrom('duty').selectAll().orderBy('id').execute();
    return rows.map(rowToDuty);
  }

  /** All grants, revoked ones included (they carry revokedAt). */
  async grants(filter: { dataset?: string; duty?: string } = {}): Promise<StoredGrant[]> {
    let query = this.db.selectFrom('grant').selectAll().orderBy('id');
    if (filter.dataset) query = query.where('dataset', '=', filter.dataset);
    if (filter.duty) query = query.where('duty', '=', filter.duty);
    return (await query.execute()).map(rowToGrant);
  }

  async grant(id: string): Promise<StoredGrant | undefined> {
    const row = await this.db.selectFrom('grant').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? rowToGrant(row) : undefined;
  }

  /**
   * Makes the store hold the policy files' duties and grants (idempotent). A file grant revoked at
   * run time stays revoked across restarts; a grant removed from the files is revoked.
   * @returns whether anything changed.
   */
  async syncFromFiles(duties: readonly DutyDef[], grants: readonly GrantDef[]): Promise<boolean> {
    return this.#transaction(async (trx) => {
      // Instances starting together on a fresh store would each read "no grants yet" and insert
      // the same rows: one syncs at a time, and the next then finds the files already in.
      await sql`select pg_advisory_xact_lock(hashtextextended('lianqiao:policy-sync', 0))`.execute(trx);
      let changed = false;
      const existingDuties = new Map((await trx.selectFrom('duty').selectAll().execute()).map((r) => [r.id as string, rowToDuty(r)]));
      for (const duty of duties) {
        const old = existingDuties.get(duty.id);
        if (old && stableJson(old) === stableJson(duty)) continue;
        changed = true;
        const values = { title: duty.title, delegated_by: duty.delegatedBy, streets: JSON.stringify(duty.streets), ...dutyDisclosureColumns(duty), updated_at: sql`now()` };
        if (old) await trx.updateTable('duty').set(values).where('id', '=', duty.id).execute();
        else await trx.insertInto('duty').values({ id: duty.id, origin: 'file', ...values }).execute();
      }
      const existing = new Map((await trx.selectFrom('grant').selectAll().execute()).map((r) => [r.id as string, rowToGrant(r)]));
      const inFiles = new Set(grants.map((g) => g.id));
      for (const grant of grants) {
        const old = existing.get(grant.id);
        if (old) {
          // Key order is not meaning: jsonb hands objects back with its own key order.
          const same = stableJson(grantValues(old)) === stableJson(grantValues(grant));
          if (same || old.origin !== 'file') continue;
          changed = true;
          await trx.updateTable('grant').set(grantValues(grant)).where('id', '=', grant.id).execute();
          if (!old.revokedAt) await this.#replaceLines(trx, grant);
        } else {
          changed = true;
          await trx.insertInto('grant').values({ id: grant.id, origin: 'file', created_by: 'policy-files', ...grantValues(grant) }).execute();
          await this.#replaceLines(trx, grant);
        }
      }
      for (const old of existing.values()) {
        if (old.origin === 'file' && !old.revokedAt && !inFiles.has(old.id)) {
          changed = true;
          await trx.updateTable('grant').set({ revoked_at: sql`now()`, revoked_by: 'policy-files' }).where('id', '=', old.id).execute();
          await trx.deleteFrom('casbin_rule').where('v5', '=', old.id).execute();
        }
      }
      if (changed) await this.#bump(trx);
      return changed;
    });
  }

  async createGrant(grant: GrantDef, createdBy: string): Promise<StoredGrant> {
    return this.#transaction(async (trx) => {
      await trx.insertInto('grant').values({ id: grant.id, origin: 'api', created_by: createdBy, ...grantValues(grant) }).execute();
      await this.#replaceLines(trx, grant);
      await this.#bump(trx);
      const row = await trx.selectFrom('grant').selectAll().where('id', '=', grant.id).executeTakeFirstOrThrow();
      return rowToGrant(row);
    });
  }

  /** @returns the revoked grant, or undefined when there is no active grant with that id. */
  async revokeGrant(id: string, revokedBy: string): Promise<StoredGrant | undefined> {
    return this.#transaction(async (trx) => {
      const updated = await trx
        .updateTable('grant')
        .set({ revoked_at: sql`now()`, revoked_by: revokedBy })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!updated) return undefined;
      await trx.deleteFrom('casbin_rule').where('v5', '=', id).execute();
      await this.#bump(trx);
      return rowToGrant(updated);
    });
  }

  async upsertDuty(duty: DutyDef): Promise<DutyDef> {
    await this.#transaction(async (trx) => {
      const values = { title: duty.title, delegated_by: duty.delegatedBy, streets: JSON.stringify(duty.streets), ...dutyDisclosureColumns(duty), updated_at: sql`now()` };
      await trx
        .insertInto('duty')
        .values({ id: duty.id, origin: 'api', ...values })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
      await this.#bump(trx);
    });
    return duty;
  }

  /** Casbin lines as stored (for the adapter). */
  async casbinRules(): Promise<string[][]> {
    const rows = await this.db.selectFrom('casbin_rule').select(['ptype', 'v0', 'v1', 'v2', 'v3', 'v4', 'v5']).orderBy('id').execute();
    return rows.map((r) => [r.ptype, r.v0, r.v1, r.v2, r.v3, r.v4, r.v5] as string[]);
  }

  /**
   * A transaction of its own, or the caller's when this store was made on one: an admission change
   * and its audit event commit together (`new PolicyStore(trx)` inside `appendWith`).
   */
  #transaction<T>(work: (trx: Transaction<any>) => Promise<T>): Promise<T> {
    return this.db.isTransaction ? work(this.db as Transaction<any>) : this.db.transaction().execute(work);
  }

  async #replaceLines(trx: Transaction<any>, grant: GrantDef): Promise<void> {
    await trx.deleteFrom('casbin_rule').where('v5', '=', grant.id).execute();
    const lines = casbinLines(grant);
    for (let i = 0; i < lines.length; i += 500) {
      await trx
        .insertInto('casbin_rule')
        .values(lines.slice(i, i + 500).map(([v0, v1, v2, v3, v4, v5]) => ({ ptype: 'p', v0, v1, v2, v3, v4, v5 })))
        .execute();
    }
  }

  async #bump(trx: Transaction<any>): Promise<void> {
    await trx.updateTable('policy_version').set({ version: sql`version + 1`, changed_at: sql`now()` }).where('id', '=', 1).execute();
  }
}

/** Canonical JSON (JSON-encoded strings inside are parsed first), for comparing stored and file values. */
function stableJson(value: unknown): string {
  const parsed = (v: unknown): unknown => {
    if (typeof v === 'string' && (v.startsWith('{') || v.startsWith('['))) {
      try {
        return parsed(JSON.parse(v));
      } catch {
        return v;
      }
    }
    if (Array.isArray(v)) return v.map(parsed);
    if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, parsed(x)]));
    return v;
  };
  return canonicalJson(parsed(value));
}
