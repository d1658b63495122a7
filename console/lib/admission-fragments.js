// The admission review's types as the console reads them (CONTRACT.md § Admission review), in one
// place so that every view asks for the same fields.
export const ACCESS_REQUEST_FIELDS = /* GraphQL */ `
  id street duty dataset
  fields { field access }
  rows reason legalBasis validUntil requestedBy requestedAt state
  emergency { fields { field access } maxMinutes }
  decision { decision reviewer at reason fields { field access } rows validUntil emergency { fields { field access } maxMinutes } }
  cancelledBy cancelledAt cancelReason
  grant { id emergency { fields { field access } maxMinutes } }
`;

export const ACCESS_REQUEST_CHANGES = /* GraphQL */ `
  changes { field today after changed todayRule afterRule todayEmergency afterEmergency }
`;

export const DELEGATION_FIELDS = /* GraphQL */ `
  id duty dutyTitle delegatedBy legalBasis validFrom validUntil note state proposedBy proposedAt
  withdrawnBy withdrawnAt withdrawalReason
  streets { street district state inForce reason reviewedBy reviewedAt }
`;

export const GRANT_FIELDS = /* GraphQL */ `
  id owner dataset duty allStreets streets fields { field access } rows validFrom validUntil active origin createdBy createdAt
  emergency { fields { field access } maxMinutes }
  state fromFiles document legalBasis approvedBy approvedAt approvalReason withdrawnBy withdrawnAt withdrawalReason request { id }
`;
