/**
 * The allow-list mode: with `PERSISTED_OPERATIONS_FILE` set, the gateway runs only the operations
 * that file lists, and a client names one by its id instead of sending a document
 * (`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"<id>"}}}`, Apollo's format).
 *
 * The file is a JSON object `{ "<id>": "<GraphQL document>", ... }`. Ids that look like a SHA-256
 * (64 hex digits) must be the hash of their document, so a typo cannot run something else.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { parse } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import { GatewayError } from '../../core/errors.ts';

export class PersistedOperationsError extends Error {
  override readonly name = 'PersistedOperationsError';
}

/** Reads and checks the allow-list; throws {@link PersistedOperationsError} naming the file and the entry. */
export function loadPersistedOperations(file: string): ReadonlyMap<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: expected a JSON object of id → GraphQL document`);
  }
  const operations = new Map<string, string>();
  for (const [id, document] of Object.entries(raw)) {
    if (typeof document !== 'string') throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: "${id}" is not a string`);
    try {
      parse(document);
    } catch (error) {
      throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: "${id}" is not a GraphQL document: ${(error as Error).message}`);
    }
    if (/^[0-9a-f]{64}$/i.test(id) && createHash('sha256').update(document).digest('hex') !== id.toLowerCase()) {
      throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: "${id}" is not the SHA-256 of its document`);
    }
    operations.set(id, document);
  }
  if (operations.size === 0) throw new PersistedOperationsError(`PERSISTED_OPERATIONS_FILE ${file}: lists no operation`);
  return operations;
}

/** Runs only the listed operations; any other document, or an unknown id, is FORBIDDEN / BAD_USER_INPUT. */
export function usePersistedOperationsOnly(operations: ReadonlyMap<string, string>): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (id) => operations.get(id) ?? null,
    allowArbitraryOperations: false,
    customErrors: {
      persistedQueryOnly: () => new GatewayError('FORBIDDEN', 'this gateway runs only persisted operations: send the id of one instead of a document'),
      notFound: () => new GatewayError('FORBIDDEN', 'unknown persisted operation'),
      keyNotFound: () => new GatewayError('BAD_USER_INPUT', 'no persisted operation id: send extensions.persistedQuery.sha256Hash'),
    },
  }) as Plugin;
}
