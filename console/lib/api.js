// The console's only ways to the gateway: GraphQL on /graphql and the audit export on /audit/export,
// both with the user's bearer token, so that everything shown or changed is authorised and audited
// exactly as for any other client.
import { token } from './session.js';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** Listeners told when the gateway says the token is no longer good (expired, revoked secret). */
const unauthenticated = new Set();
export function onUnauthenticated(listener) {
  unauthenticated.add(listener);
  return () => unauthenticated.delete(listener);
}

/** Calls in flight, on <html data-busy> (a progress cue for the page, and what tests wait for). */
let busy = 0;
function track(delta) {
  busy += delta;
  document.documentElement.dataset.busy = String(busy);
}

function headers(extra = {}) {
  const result = { authorization: `Bearer ${token() ?? ''}`, ...extra };
  return result;
}

/**
 * Runs one GraphQL operation. `purpose` becomes X-Purpose (needed only for reads of source data),
 * `caseRef` X-Case-Ref, and `emergency` X-Emergency: a read under an emergency session, sent only
 * when the user chose it for this read (such a read is flagged, reviewed, and shown to the resident).
 * Resolves with `data`; rejects with an ApiError carrying the gateway's error code.
 */
export async function graphql(query, variables = {}, { purpose, caseRef, emergency } = {}) {
  const extra = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (purpose) extra['x-purpose'] = purpose;
  if (caseRef) extra['x-case-ref'] = caseRef;
  if (emergency) extra['x-emergency'] = emergency;
  let response;
  let body;
  track(1);
  try {
    try {
      response = await fetch('/graphql', { method: 'POST', headers: headers(extra), body: JSON.stringify({ query, variables }) });
    } catch {
      throw new ApiError('NETWORK', 'The gateway could not be reached.', 0);
    }
    try {
      body = await response.json();
    } catch {
      throw new ApiError('SERVICE_UNAVAILABLE', `The gateway answered ${response.status} without a GraphQL body.`, response.status);
    }
  } finally {
    track(-1);
  }
  const error = body?.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    if (code === 'UNAUTHENTICATED') for (const listener of unauthenticated) listener();
    throw new ApiError(code, error.message, response.status);
  }
  return body.data;
}

/**
 * Downloads the audit trail of [from, to) as a file. A plain link cannot carry the bearer token, so
 * the file is fetched with it and handed to the browser as a download.
 */
export async function downloadAuditExport({ from, to, format }) {
  const query = new URLSearchParams({ from, to, format });
  const response = await fetch(`/audit/export?${query}`, { headers: headers() });
  if (!response.ok) {
    let code = 'INTERNAL_SERVER_ERROR';
    let message = `HTTP ${response.status}`;
    try {
      const body = await response.json();
      code = body.errors?.[0]?.extensions?.code ?? code;
      message = body.errors?.[0]?.message ?? message;
    } catch {}
    throw new ApiError(code, message, response.status);
  }
  const blob = await response.blob();
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `audit.${format}`;
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, bytes: blob.size };
}
