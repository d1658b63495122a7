/**
 * The admission review's API, exactly as CONTRACT.md § "Admission review" names it: duty
 * delegations proposed by departments and admitted per street by district reviewers; access
 * requests by street admins, reviewed by the dataset's owner; the grants they create.
 */
export const admissionTypeDefs = /* GraphQL */ `
  enum DelegationState {
    PROPOSED
    ADMITTED
    REJECTED
    WITHDRAWN
    EXPIRED
  }

  "One street's answer in a delegation."
  enum DelegationStreetState {
    PROPOSED
    ADMITTED
    REJECTED
  }

  enum AccessRequestState {
    PENDING
    APPROVED
    REJECTED
    CANCELLED
  }

  enum GrantState {
    ACTIVE
    EXPIRED
    WITHDRAWN
  }

  enum DelegationDecision {
    ADMIT
    REJECT
  }

  enum AccessRequestDecision {
    APPROVE
    REJECT
  }

  enum RequestedAccess {
    FULL
    MASKED
  }

  extend type Query {
    "Delegations you may see: your department's, your district's, your street's; all for data owners, auditors and platform admins. Newest first."
    dutyDelegations(state: DelegationState, duty: ID, street: ID, first: Int = 20, after: String): DutyDelegationConnection!
    "Requests you may see: your street's (street admins), your datasets' (data owners); all for auditors and platform admins. Newest first."
    accessRequests(state: AccessRequestState, dataset: String, street: ID, first: Int = 20, after: String): AccessRequestConnection!
    accessRequest(id: ID!): AccessRequest
    "Active grants you may see that end within this many days (1 to 366), soonest first."
    expiringGrants(withinDays: Int = 30): [Grant!]!
  }

  input ProposeDutyDelegationInput {
    duty: ID!
    "9-digit street codes."
    streets: [ID!]!
    "The document the delegation rests on, e.g. 沪民规〔2026〕1号."
    legalBasis: String!
    "ISO date (a day in UTC+8) or date-time; omitted: from admission on."
    validFrom: String
    "ISO date (valid through that day, UTC+8) or date-time (exclusive)."
    validUntil: String!
    note: String
  }

  input RequestedFieldInput {
    field: String!
    access: RequestedAccess!
  }

  "An emergency clause asked or approved: fields readable only under an emergency session, and its longest session."
  input RequestedEmergencyInput {
    fields: [RequestedFieldInput!]!
    "Minutes, 1 to 720; omitted: 60."
    maxMinutes: Int
  }

  input RequestAccessInput {
    duty: ID!
    dataset: String!
    fields: [RequestedFieldInput!]!
    "A row condition as JSON, e.g. {\\"field\\":\\"age\\",\\"op\\":\\"gte\\",\\"value\\":65}."
    rows: String
    reason: String!
    legalBasis: String!
    validUntil: String!
    "Your own street's 9-digit code; omitted: your street."
    street: ID
    "Optional: fields the street may read only under an emergency session (break-glass), and for how long."
    emergency: RequestedEmergencyInput
  }

  extend type Mutation {
    "Department admins: propose handing one of your department's duties down to streets."
    proposeDutyDelegation(input: ProposeDutyDelegationInput!): DutyDelegation!
    "District reviewers: admit or reject the streets of your district still waiting in a proposal (streets omitted: all of them)."
    reviewDutyDelegation(id: ID!, decision: DelegationDecision!, streets: [ID!], reason: String!): DutyDelegation!
    "Department admins: withdraw a delegation of your department; its streets lose the duty at once."
    withdrawDutyDelegation(id: ID!, reason: String!): DutyDelegation!
    "Street admins: ask for fields of one dataset for a duty in force at your street."
    requestAccess(input: RequestAccessInput!): AccessRequest!
    "Street admins: cancel a pending request of your street."
    cancelAccessRequest(id: ID!, reason: String!): AccessRequest!
    "Data owners: approve a request on your dataset as asked or narrower (fields, rows, validUntil, emergency omitted: as asked; dropEmergency: without the emergency clause), or reject it."
    reviewAccessRequest(
      id: ID!
      decision: AccessRequestDecision!
      fields: [RequestedFieldInput!]
      rows: String
      validUntil: String
      emergency: RequestedEmergencyInput
      dropEmergency: Boolean
      reason: String!
    ): AccessRequest!
    "Data owners: end a grant on your dataset now, with a reason."
    withdrawGrant(id: ID!, reason: String!): Grant!
  }

  type DelegationStreet {
    street: ID!
    district: String!
    state: DelegationStreetState!
    "Whether the duty is in force for this street under this delegation now."
    inForce: Boolean!
    reviewedBy: String
    reviewedAt: String
    reason: String
  }

  type DutyDelegation {
    id: ID!
    duty: ID!
    dutyTitle: String
    delegatedBy: String!
    legalBasis: String!
    validFrom: String
    validUntil: String!
    note: String
    state: DelegationState!
    streets: [DelegationStreet!]!
    proposedBy: String!
    proposedAt: String!
    withdrawnBy: String
    withdrawnAt: String
    withdrawalReason: String
  }

  type DutyDelegationEdge {
    cursor: String!
    node: DutyDelegation!
  }

  type DutyDelegationConnection {
    edges: [DutyDelegationEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  type RequestedField {
    field: String!
    access: RequestedAccess!
  }

  "An emergency clause asked or approved."
  type RequestedEmergency {
    fields: [RequestedField!]!
    maxMinutes: Int!
  }

  "A data owner's decision on a request: who, when, why, and (approved) the terms granted."
  type AccessReview {
    decision: AccessRequestDecision!
    reviewer: String!
    at: String!
    reason: String!
    fields: [RequestedField!]
    rows: String
    validUntil: String
    "The emergency clause approved, or null when none was (asked or kept)."
    emergency: RequestedEmergency
  }

  "One field: what the street reads today under the duty, and what it could read after approval."
  type AccessChange {
    field: String!
    today: String!
    after: String!
    changed: Boolean!
    todayRule: String!
    afterRule: String!
    "What an emergency session for the duty opens of this field today (full or masked), or null."
    todayEmergency: String
    "What an emergency session would open of it after approval, or null."
    afterEmergency: String
  }

  type AccessRequest {
    id: ID!
    street: ID!
    duty: ID!
    dataset: String!
    fields: [RequestedField!]!
    rows: String
    reason: String!
    legalBasis: String!
    validUntil: String!
    "The emergency clause asked for, or null."
    emergency: RequestedEmergency
    requestedBy: String!
    requestedAt: String!
    state: AccessRequestState!
    decision: AccessReview
    cancelledBy: String
    cancelledAt: String
    cancelReason: String
    grant: Grant
    changes: [AccessChange!]!
  }

  type AccessRequestEdge {
    cursor: String!
    node: AccessRequest!
  }

  type AccessRequestConnection {
    edges: [AccessRequestEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }

  extend type Viewer {
    "For a street: the duties in force there now (a standing delegation of the files or an admitted one)."
    dutiesInForce: [Duty!]!
  }

  extend type Grant {
    state: GrantState!
    "The access request whose approval created this grant."
    request: AccessRequest
    approvedBy: String
    approvedAt: String
    approvalReason: String
    legalBasis: String
    withdrawnAt: String
    withdrawnBy: String
    withdrawalReason: String
    "A standing grant from the policy files (not created by a review)."
    fromFiles: Boolean!
    "For standing grants: the policy file that holds it."
    document: String
  }
`;
