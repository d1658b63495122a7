/**
 * The admission review's records (CONTRACT.md § Admission review): duty delegations and the
 * per-street answers of the district reviewers, access requests and their decisions, and what
 * the review says about each grant it created or withdrew. History is never rewritten: a
 * decision, a cancellation or a withdrawal sets its own columns once; nothing is deleted.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const admissionMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('duty_delegation')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('duty', 'text', (c) => c.notNull())
      .addColumn('delegated_by', 'text', (c) => c.notNull())
      .addColumn('legal_basis', 'text', (c) => c.notNull())
      .addColumn('valid_from', 'timestamptz')
      .addColumn('valid_until', 'timestamptz', (c) => c.notNull())
      .addColumn('note', 'text')
      .addColumn('proposed_by', 'text', (c) => c.notNull())
      .addColumn('proposed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('withdrawn_by', 'text')
      .addColumn('withdrawn_at', 'timestamptz')
      .addColumn('withdrawal_reason', 'text')
      .execute();
    await db.schema.createIndex('duty_delegation_duty').ifNotExists().on('duty_delegation').columns(['duty']).execute();
    // One row per street of a proposal: each street is answered by the reviewer of its district.
    await db.schema
      .createTable('duty_delegation_street')
      .ifNotExists()
      .addColumn('delegation_id', 'text', (c) => c.notNull().references('duty_delegation.id'))
      .addColumn('street', 'text', (c) => c.notNull())
      .addColumn('district', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('PROPOSED'))
      .addColumn('reviewed_by', 'text')
      .addColumn('reviewed_at', 'timestamptz')
      .addColumn('reason', 'text')
      .addPrimaryKeyConstraint('duty_delegation_street_pk', ['delegation_id', 'street'])
      .addCheckConstraint('duty_delegation_street_state', sql`state in ('PROPOSED', 'ADMITTED', 'REJECTED')`)
      .execute();
    await db.schema.createIndex('duty_delegation_street_street').ifNotExists().on('duty_delegation_street').columns(['street', 'state']).execute();
    await db.schema
      .createTable('access_request')
      .ifNotExists()
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('street', 'text', (c) => c.notNull())
      .addColumn('duty', 'text', (c) => c.notNull())
      .addColumn('dataset', 'text', (c) => c.notNull())
      .addColumn('fields', 'jsonb', (c) => c.notNull())
      .addColumn('row_condition', 'jsonb')
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('legal_basis', 'text', (c) => c.notNull())
      .addColumn('valid_until', 'timestamptz', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('state', 'text', (c) => c.notNull().defaultTo('PENDING'))
      .addColumn('reviewed_by', 'text')
      .addColumn('reviewed_at', 'timestamptz')
      .addColumn('decision_reason', 'text')
      .addColumn('approved_fields', 'jsonb')
      .addColumn('approved_rows', 'jsonb')
      .addColumn('approved_until', 'timestamptz')
      .addColumn('grant_id', 'text')
      .addColumn('cancelled_by', 'text')
      .addColumn('cancelled_at', 'timestamptz')
      .addColumn('cancel_reason', 'text')
      .addCheckConstraint('access_request_state', sql`state in ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED')`)
      .execute();
    await db.schema.createIndex('access_request_dataset').ifNotExists().on('access_request').columns(['dataset', 'state']).execute();
    await db.schema.createIndex('access_request_street').ifNotExists().on('access_request').columns(['street', 'state']).execute();
    // The review's side of a grant (the grant itself stays in `grant`, owned by the policy store).
    await db.schema
      .createTable('grant_review')
      .ifNotExists()
      .addColumn('grant_id', 'text', (c) => c.primaryKey())
      .addColumn('request_id', 'text')
      .addColumn('approved_by', 'text')
      .addColumn('approved_at', 'timestamptz')
      .addColumn('approval_reason', 'text')
      .addColumn('legal_basis', 'text')
      .addColumn('withdrawn_by', 'text')
      .addColumn('withdrawn_at', 'timestamptz')
      .addColumn('withdrawal_reason', 'text')
      .execute();
  },
};
