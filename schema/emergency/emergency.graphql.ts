/** The SDL of emergency access (CONTRACT.md § "Emergency access (break-glass)"). */
export const emergencyTypeDefs = /* GraphQL */ `
  enum EmergencyVerdict {
    JUSTIFIED
    UNJUSTIFIED
  }

  enum EmergencyState {
    OPEN
    ENDED
    EXPIRED
  }

  enum EmergencyReviewFilter {
    ANY
    UNREVIEWED
    OVERDUE
    REVIEWED
  }

  type EmergencyReview {
    verdict: EmergencyVerdict!
    note: String!
    reviewer: String!
    reviewedAt: String!
  }

  "What was done under a session, from the audit trail (no values, no ID numbers)."
  type EmergencyActivity {
    "Operations sent with the session in X-Emergency, allowed or refused."
    operations: Int!
    allowed: Int!
    refused: Int!
    "Rows and persons returned by the allowed operations."
    rows: Int!
    persons: Int!
    "dataset.field names the allowed operations read."
    fields: [String!]!
  }

  "A street clerk's emergency session: one duty, optionally one person, for a short time, reviewed afterwards."
  type EmergencySession {
    "Send it as X-Emergency with each read (and X-Purpose: the session's duty)."
    id: ID!
    user: String!
    org: String!
    street: String!
    duty: ID!
    "The one person the session is for, when it is for one: every row read under it is theirs."
    subjectIdNumber: ID
    "Whether the session is for one person (without looking that person up, as subjectIdNumber does)."
    forOnePerson: Boolean!
    reason: String!
    caseRef: String!
    "Grants whose emergency clauses the session opened."
    grants: [ID!]!
    "dataset.field names readable under the session besides the duty's own."
    fields: [String!]!
    startedAt: String!
    expiresAt: String!
    endedAt: String
    endedBy: String
    state: EmergencyState!
    "Seconds until it expires; 0 once it is not open."
    secondsLeft: Int!
    "When the review is due: 3 days after the start."
    reviewDueAt: String!
    "Not reviewed and past reviewDueAt."
    overdue: Boolean!
    review: EmergencyReview
    "What the audit trail holds of the operations under the session: what its reviewers judge."
    activity: EmergencyActivity!
  }

  "A grant's emergency clause."
  type GrantEmergency {
    "Fields readable, besides the grant's own, under an emergency session for the grant's duty."
    fields: [GrantField!]!
    "The longest session the clause allows."
    maxMinutes: Int!
  }

  extend type Grant {
    "The emergency clause, or null when the grant allows no emergency access."
    emergency: GrantEmergency
  }

  extend type Query {
    "Street staff: your open emergency session, if any (for the banner with the time left)."
    myEmergencySession: EmergencySession
    "Data owners (sessions that opened their department's data) and auditors: emergency sessions, newest first."
    emergencySessions(review: EmergencyReviewFilter = ANY, first: Int = 50): [EmergencySession!]!
    "Data owners and auditors: sessions not reviewed 3 days after their start."
    overdueEmergencySessions(first: Int = 50): [EmergencySession!]!
    "One session: to its user, its reviewers and auditors."
    emergencySession(id: ID!): EmergencySession
  }

  extend type Mutation {
    "Street staff: start emergency access for a duty your street holds (reason of 20 characters or more)."
    startEmergencyAccess(duty: ID!, subjectIdNumber: ID, reason: String!, caseRef: String!, minutes: Int): EmergencySession!
    "Street staff: end your emergency session early."
    endEmergencyAccess(id: ID!): EmergencySession!
    "Data owners of the department whose data it opened, or auditors (never its user): the after-the-fact review."
    reviewEmergencyAccess(id: ID!, verdict: EmergencyVerdict!, note: String!): EmergencySession!
  }
`;
