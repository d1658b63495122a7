/**
 * Resolvers of emergency access: street staff start and end their session, data owners and
 * auditors list and review sessions. The rules are in policies/emergency; here they are applied to
 * the request, and every change is written with its audit event (START, STOP, review).
 */
import type { AuditEventInput, TransactionalAuditSink } from '../../audit/audit-event.ts';
import type { EmergencyActivity } from '../../audit/emergency-findings.ts';
import { EMERGENCY_REVIEW_ACTION, EMERGENCY_START_ACTION, EMERGENCY_STOP_ACTION } from '../../audit/emergency-read.ts';
import { GatewayError, isGatewayError } from '../../core/errors.ts';
import { hasRole, isDutyId, streetCodeOf, type Viewer } from '../../core/identity.ts';
import { scrubText } from '../../core/personal-data.ts';
import type { Authorizer } from '../../policies/authorizer.ts';
import type { EmergencyClause } from '../../policies/emergency/emergency-clause.ts';
import { emergencyGrants } from '../../policies/emergency/emergency-plan.ts';
import { checkEnd, checkReview, mayReview, planStart, type StartRequest } from '../../policies/emergency/emergency-rules.ts';
import { isOverdue, REVIEW_DUE_MS, sessionState, type EmergencySession } from '../../policies/emergency/emergency-session.ts';
import type { EmergencyLimits, EmergencyStore } from '../../policies/emergency/emergency-store.ts';
import { resolverContext } from '../resolver-context.ts';
import { changeWithEvent } from './emergency-changes.ts';
import { sessionEvent } from './emergency-events.ts';

export interface EmergencyDeps {
  readonly sessions: EmergencyStore;
  readonly authorizer: Pick<Authorizer, 'plan' | 'grants' | 'ensureCurrent'>;
  /** Writes each change with its event, in one transaction on the store the sessions live in. */
  readonly audit: TransactionalAuditSink;
  readonly limits: EmergencyLimits;
  /** The trail's account of the operations under a session, recorded in [from, to]. */
  readonly activity: (session: string, from: Date, to: Date) => Promise<EmergencyActivity>;
  readonly now?: () => number;
}

const MAX_LIST = 200;

function viewerOf(context: object): Viewer {
  const viewer = resolverContext(context).viewer;
  if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
  return viewer;
}

function requireReviewer(context: object): Viewer {
  const viewer = viewerOf(context);
  if (!hasRole(viewer, 'data_owner') && !hasRole(viewer, 'auditor')) {
    throw new GatewayError('FORBIDDEN', 'emergency sessions are listed for data owners and auditors');
  }
  return viewer;
}

function pageSize(first: number | null | undefined): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 0 || n > MAX_LIST) {
    throw new GatewayError('BAD_USER_INPUT', `first must be between 0 and ${MAX_LIST}`, { details: { argument: 'first' } });
  }
  return n;
}

/** A data owner sees the sessions that opened their department's data; an auditor sees all. */
function ownerFilter(viewer: Viewer): string | undefined {
  return hasRole(viewer, 'auditor') ? undefined : viewer.org;
}

export function emergencyResolvers(deps: EmergencyDeps) {
  const now = () => deps.now?.() ?? Date.now();

  /** An event of this request, for one step of a session. */
  const stepEvent = (context: object, session: EmergencySession, step: string, action: string, extra: Record<string, unknown>, reason: string): AuditEventInput => {
    const state = resolverContext(context);
    return sessionEvent({ requestId: state.requestId, viewer: state.viewer }, session, step, action, extra, reason);
  };

  return {
    Query: {
      myEmergencySession: async (_: unknown, __: unknown, context: object) => {
        const viewer = viewerOf(context);
        const recent = await deps.sessions.list({ userSub: viewer.sub }, 5);
        return recent.find((s) => s.org === viewer.org && sessionState(s, now()) === 'OPEN') ?? null;
      },
      emergencySessions: async (_: unknown, args: { review?: string | null; first?: number | null }, context: object) => {
        const viewer = requireReviewer(context);
        const review = (args.review ?? 'ANY').toLowerCase() as 'any' | 'unreviewed' | 'overdue' | 'reviewed';
        return deps.sessions.list({ owner: ownerFilter(viewer), review }, pageSize(args.first), new Date(now()));
      },
      overdueEmergencySessions: async (_: unknown, args: { first?: number | null }, context: object) => {
        const viewer = requireReviewer(context);
        return deps.sessions.list({ owner: ownerFilter(viewer), review: 'overdue' }, pageSize(args.first), new Date(now()));
      },
      emergencySession: async (_: unknown, args: { id: string }, context: object) => {
        const viewer = viewerOf(context);
        const session = await deps.sessions.get(args.id);
        if (!session) return null;
        const own = session.userSub === viewer.sub && session.org === viewer.org;
        return own || mayReview(session, viewer) ? session : null;
      },
    },
    Mutation: {
      startEmergencyAccess: async (_: unknown, args: StartRequest, context: object) => {
        const viewer = viewerOf(context);
        const at = now();
        const street = streetCodeOf(viewer.org);
        const duty = args.duty.trim();
        // The facts are looked up only for a caller and duty that can have any; planStart refuses the rest first.
        const eligible = !!street && hasRole(viewer, 'street_staff') && isDutyId(duty);
        // On the policies as they are now, as every read decides (a withdrawal answered anywhere counts).
        if (eligible) await deps.authorizer.ensureCurrent();
        const dutyRefusal = eligible ? deps.authorizer.plan(viewer.org, duty, at).refusal : null;
        const grants = eligible && !dutyRefusal ? emergencyGrants(deps.authorizer.grants(), street, duty, at) : [];
        const plan = planStart(args, { viewer, dutyRefusal, grants, now: at });
        const session = await changeWithEvent(
          deps.audit,
          (on) => deps.sessions.start(on, plan, viewer, deps.limits),
          (s) =>
            stepEvent(
              context,
              s,
              'start',
              EMERGENCY_START_ACTION,
              { reason: scrubText(s.reason), grants: [...s.grants], forOnePerson: s.subjectIdNumber !== null, startedAt: s.startedAt.toISOString() },
              `emergency access started: session ${s.id} for duty ${s.duty} until ${s.expiresAt.toISOString()}`,
            ),
        );
        const trace = resolverContext(context).trace;
        trace.change = { action: 'startEmergencyAccess', session: session.id };
        // The START event names the person; the operation's own event does not name them again (it is
        // no read of their data, and their page would list an empty entry for it).
        return session;
      },
      endEmergencyAccess: async (_: unknown, args: { id: string }, context: object) => {
        const viewer = viewerOf(context);
        const at = now();
        checkEnd(await deps.sessions.get(args.id), viewer, at);
        const ended = await changeWithEvent(
          deps.audit,
          async (on) => {
            const s = await deps.sessions.end(on, args.id, viewer.sub, new Date(at));
            if (!s) throw new GatewayError('BAD_USER_INPUT', `emergency session ${args.id} is no longer open`);
            return s;
          },
          (s) => stepEvent(context, s, 'stop', EMERGENCY_STOP_ACTION, { stopReason: 'ended', endedBy: viewer.sub, endedAt: s.endedAt?.toISOString() ?? null }, `emergency access ended: session ${s.id}`),
        );
        resolverContext(context).trace.change = { action: 'endEmergencyAccess', session: ended.id };
        return ended;
      },
      reviewEmergencyAccess: async (_: unknown, args: { id: string; verdict: string; note: string }, context: object) => {
        const viewer = viewerOf(context);
        const at = now();
        const before = await deps.sessions.get(args.id);
        const review = checkReview(before, viewer, args.verdict, args.note);
        const wasOpen = sessionState(before!, at) === 'OPEN';
        // An UNJUSTIFIED verdict on an open session stops it first, with its one STOP event like any
        // other stop; then the review is recorded. Should the review then fail, the session stays
        // stopped (the safe side) and the review can be made again.
        let stopped = false;
        if (wasOpen && review.verdict === 'UNJUSTIFIED') {
          const ended = await changeWithEvent(
            deps.audit,
            async (on) => {
              const s = await deps.sessions.end(on, args.id, viewer.sub, new Date(at));
              if (!s) throw new GatewayError('BAD_USER_INPUT', `emergency session ${args.id} stopped meanwhile`);
              return s;
            },
            (s) =>
              stepEvent(context, s, 'stop', EMERGENCY_STOP_ACTION, { stopReason: 'unjustified', endedBy: viewer.sub, endedAt: s.endedAt?.toISOString() ?? null }, `emergency access stopped by an UNJUSTIFIED review: session ${s.id}`),
          ).catch((error: unknown) => {
            // Stopped meanwhile (its user ended it, or it expired): the review goes on as for a stopped session.
            if (isGatewayError(error) && error.code === 'BAD_USER_INPUT') return undefined;
            throw error;
          });
          stopped = ended !== undefined;
        }
        const reviewed = await changeWithEvent(
          deps.audit,
          async (on) => {
            const s = await deps.sessions.review(on, args.id, { ...review, by: viewer.sub, at: new Date(at) });
            if (!s) throw new GatewayError('BAD_USER_INPUT', `emergency session ${args.id} was already reviewed`);
            return s;
          },
          (s) =>
            stepEvent(
              context,
              s,
              'review',
              EMERGENCY_REVIEW_ACTION,
              { verdict: review.verdict, note: scrubText(review.note), reviewer: viewer.sub, stopped },
              `emergency session ${s.id} reviewed: ${review.verdict}`,
            ),
        );
        resolverContext(context).trace.change = { action: 'reviewEmergencyAccess', session: reviewed.id, verdict: review.verdict };
        return reviewed;
      },
    },
    Grant: {
      emergency: (grant: { emergency?: EmergencyClause | null }) =>
        grant.emergency
          ? { fields: Object.entries(grant.emergency.fields).map(([field, access]) => ({ field, access })), maxMinutes: grant.emergency.maxMinutes }
          : null,
    },
    EmergencySession: {
      user: (s: EmergencySession) => s.userSub,
      subjectIdNumber: (s: EmergencySession, _: unknown, context: object) => {
        // Showing whom a session was for is a look-up of that person, like the audit reports.
        if (s.subjectIdNumber) resolverContext(context).trace.subjects.add(s.subjectIdNumber);
        return s.subjectIdNumber;
      },
      forOnePerson: (s: EmergencySession) => s.subjectIdNumber !== null,
      startedAt: (s: EmergencySession) => s.startedAt.toISOString(),
      expiresAt: (s: EmergencySession) => s.expiresAt.toISOString(),
      endedAt: (s: EmergencySession) => s.endedAt?.toISOString() ?? null,
      state: (s: EmergencySession) => sessionState(s, now()),
      secondsLeft: (s: EmergencySession) => (sessionState(s, now()) === 'OPEN' ? Math.max(0, Math.ceil((s.expiresAt.getTime() - now()) / 1000)) : 0),
      reviewDueAt: (s: EmergencySession) => new Date(s.startedAt.getTime() + REVIEW_DUE_MS).toISOString(),
      overdue: (s: EmergencySession) => isOverdue(s, now()),
      // Up to now, not to the session's stop: attempts to go on using an ended session count too.
      activity: (s: EmergencySession) => deps.activity(s.id, s.startedAt, new Date(now() + 60_000)),
      review: (s: EmergencySession) =>
        s.reviewedAt ? { verdict: s.verdict, note: s.reviewNote ?? '', reviewer: s.reviewedBy ?? '', reviewedAt: s.reviewedAt.toISOString() } : null,
    },
  };
}
