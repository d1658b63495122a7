// Which views exist, for which roles, at which URL. The console shows a role only its own views (and
// does not call the API for another's); the gateway authorises every call regardless.
import { StreetDuties } from './street/street-duties.js';
import { StreetGrants } from './street/street-grants.js';
import { StreetRequests, StreetRequest } from './street/street-requests.js';
import { AccessRequestForm } from './street/access-request-form.js';
import { OwnerRequests, OwnerRequest } from './owner/owner-requests.js';
import { OwnerGrants, ExpiringGrants } from './owner/owner-grants.js';
import { AccessSimulator } from './owner/access-simulator.js';
import { DelegationReview } from './review/delegation-review.js';
import { DepartmentDelegations, ProposeDelegation } from './department/department-delegations.js';
import { AuditEventSearch } from './audit/audit-event-search.js';
import { AuditEventDetail } from './audit/audit-event-detail.js';
import { AuditTimeline } from './audit/audit-timeline.js';
import { AuditAnomalies } from './audit/audit-anomalies.js';
import { SubjectAccessReport } from './audit/subject-access-report.js';
import { AuditIntegrity } from './audit/audit-integrity.js';
import { AuditExport } from './audit/audit-export.js';
import { DutyCatalogue } from './duty-catalogue.js';
import { MyDataAccess } from './resident/my-data-access.js';
import { EmergencyStart } from './emergency/emergency-start.js';
import { EmergencySessions } from './emergency/emergency-sessions.js';
import { PersonLookup } from './street/person-lookup.js';

const STREET = ['street_admin', 'street_staff'];

/** In matching order: a fixed path (`…/new`) before a pattern (`…/:id`). */
export const VIEWS = [
  { id: 'street-duties', path: '/console/street/duties', roles: STREET, title: 'view.streetDuties', nav: true, component: StreetDuties },
  { id: 'street-grants', path: '/console/street/grants', roles: STREET, title: 'view.streetGrants', nav: true, component: StreetGrants },
  { id: 'street-requests', path: '/console/street/requests', roles: ['street_admin'], title: 'view.streetRequests', nav: true, component: StreetRequests },
  { id: 'street-request-new', path: '/console/street/requests/new', roles: ['street_admin'], title: 'view.streetRequestNew', nav: true, component: AccessRequestForm },
  { id: 'street-request', path: '/console/street/requests/:id', roles: ['street_admin'], title: 'view.streetRequest', component: StreetRequest },
  { id: 'street-lookup', path: '/console/street/lookup', roles: ['street_staff'], title: 'view.streetLookup', nav: true, component: PersonLookup },
  { id: 'street-emergency', path: '/console/street/emergency', roles: ['street_staff'], title: 'view.streetEmergency', nav: true, component: EmergencyStart },
  { id: 'owner-requests', path: '/console/owner/requests', roles: ['data_owner'], title: 'view.ownerRequests', nav: true, component: OwnerRequests },
  { id: 'owner-request', path: '/console/owner/requests/:id', roles: ['data_owner'], title: 'view.ownerRequest', component: OwnerRequest },
  { id: 'owner-grants', path: '/console/owner/grants', roles: ['data_owner'], title: 'view.ownerGrants', nav: true, component: OwnerGrants },
  { id: 'owner-expiring', path: '/console/owner/expiring', roles: ['data_owner'], title: 'view.ownerExpiring', nav: true, component: ExpiringGrants },
  { id: 'owner-simulator', path: '/console/owner/simulator', roles: ['data_owner'], title: 'view.ownerSimulator', nav: true, component: AccessSimulator },
  { id: 'reviewer-delegations', path: '/console/reviewer/delegations', roles: ['district_reviewer'], title: 'view.reviewerDelegations', nav: true, component: DelegationReview },
  { id: 'department-delegations', path: '/console/department/delegations', roles: ['department_admin'], title: 'view.departmentDelegations', nav: true, component: DepartmentDelegations },
  { id: 'department-propose', path: '/console/department/delegations/new', roles: ['department_admin'], title: 'view.departmentPropose', nav: true, component: ProposeDelegation },
  { id: 'audit-events', path: '/console/audit/events', roles: ['auditor'], title: 'view.auditEvents', nav: true, component: AuditEventSearch },
  { id: 'audit-event', path: '/console/audit/event', roles: ['auditor'], title: 'view.auditEvent', component: AuditEventDetail },
  { id: 'audit-timeline', path: '/console/audit/timeline', roles: ['auditor'], title: 'view.auditTimeline', nav: true, component: AuditTimeline },
  { id: 'audit-anomalies', path: '/console/audit/anomalies', roles: ['auditor'], title: 'view.auditAnomalies', nav: true, component: AuditAnomalies },
  { id: 'audit-subject', path: '/console/audit/subject', roles: ['auditor'], title: 'view.auditSubject', nav: true, component: SubjectAccessReport },
  { id: 'audit-integrity', path: '/console/audit/integrity', roles: ['auditor'], title: 'view.auditIntegrity', nav: true, component: AuditIntegrity },
  { id: 'audit-export', path: '/console/audit/export', roles: ['auditor'], title: 'view.auditExport', nav: true, component: AuditExport },
  { id: 'emergency-sessions', path: '/console/emergency/sessions', roles: ['data_owner', 'auditor'], title: 'view.emergencySessions', nav: true, component: EmergencySessions },
  { id: 'resident-reads', path: '/console/resident/reads', roles: ['resident'], title: 'view.residentReads', nav: true, component: MyDataAccess },
  { id: 'duties', path: '/console/duties', roles: ['platform_admin'], title: 'view.duties', nav: true, component: DutyCatalogue },
];

/** The views of these roles, each tagged with the role it is listed under in the navigation. */
export function viewsFor(roles) {
  return VIEWS.filter((v) => v.roles.some((r) => roles.includes(r))).map((v) => ({ ...v, group: v.roles.find((r) => roles.includes(r)) }));
}
