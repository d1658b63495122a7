// The duties in force at the caller's street as the gateway decides them (`me.dutiesInForce`: a
// standing delegation of the policy files or an admitted one), each with the admitted delegations
// behind it (legal basis, period).
import { useQuery } from '../../lib/use-query.js';

const ME = /* GraphQL */ `query ConsoleStreetDuties { me { org street dutiesInForce { id title delegatedBy } } }`;
const DELEGATIONS = /* GraphQL */ `
  query ConsoleStreetDelegations($street: ID) {
    dutyDelegations(state: ADMITTED, street: $street, first: 100) {
      edges { node { id duty dutyTitle delegatedBy legalBasis validFrom validUntil streets { street inForce } } }
    }
  }
`;

/** `{ loading, error, me, duties: [{ id, title, delegatedBy, delegations }] }` */
export function useDutiesInForce() {
  const me = useQuery(ME, {});
  const street = me.data?.me.street;
  const delegations = useQuery(DELEGATIONS, { street }, { skip: !street });
  const byDuty = new Map();
  for (const d of me.data?.me.dutiesInForce ?? []) byDuty.set(d.id, { ...d, delegations: [] });
  for (const { node } of delegations.data?.dutyDelegations.edges ?? []) {
    if (node.streets.some((s) => s.street === street && s.inForce)) byDuty.get(node.duty)?.delegations.push(node);
  }
  return {
    loading: me.loading || delegations.loading,
    error: me.error ?? delegations.error,
    me: me.data?.me,
    duties: [...byDuty.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}
