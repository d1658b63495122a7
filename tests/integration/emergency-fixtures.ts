/** What the emergency-access tests share: a GraphQL call that can carry X-Emergency, and the start mutation. */
import type { TestGateway } from '../setup.ts';

export const START = `mutation Start($duty: ID!, $subject: ID, $reason: String!, $caseRef: String!, $minutes: Int) {
  startEmergencyAccess(duty: $duty, subjectIdNumber: $subject, reason: $reason, caseRef: $caseRef, minutes: $minutes) {
    id state duty subjectIdNumber fields grants startedAt expiresAt secondsLeft
  }
}`;

/** 20 characters and more: what the emergency is. */
export const REASON = 'Resident aged 82 missed two home visits and does not open the door; neighbours worried.';

export interface CallOptions {
  readonly purpose?: string;
  readonly emergency?: string;
  readonly variables?: Record<string, unknown>;
}

/** One operation in-process through yoga, with X-Purpose and X-Emergency when given. */
export function emergencyCall(gw: TestGateway) {
  return async (token: string, query: string, o: CallOptions = {}): Promise<{ status: number; body: any }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    if (o.purpose) headers['x-purpose'] = o.purpose;
    if (o.emergency) headers['x-emergency'] = o.emergency;
    const response = await gw.gateway.yoga.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables: o.variables }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
}
