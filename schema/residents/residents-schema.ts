/**
 * `myDataAccess` (CONTRACT.md § Residents: who read my data): a resident, signed in with role
 * `resident`, org `resident` and their own ID number as `sub`, pages through every read of their
 * data, newest first. Only ever their own: the person is the token's `sub`, never an argument.
 *
 * Organisations and duties are shown by name (in English and Chinese), fields by name only; the
 * duty's `disclosureDelayDays` holds its reads back until the delay has passed
 * (`audit/resident-disclosure.ts`).
 */
import type { IResolvers } from '@graphql-tools/utils';
import { GatewayError, isGatewayError } from '../../core/errors.ts';
import { isResident } from '../../core/identity.ts';
import type { ResidentAccess, ResidentDisclosure } from '../../audit/resident-disclosure.ts';
import type { DutyDef } from '../../policies/policy-definitions.ts';
import { resolverContext } from '../resolver-context.ts';
import { organisationName } from './organisation-names.ts';

export const residentsTypeDefs = /* GraphQL */ `
  extend type Query {
    "Every read of your own data, newest first (role resident). Reads under a duty that delays disclosure appear once the delay has passed."
    myDataAccess(first: Int = 20, after: String): DataAccessConnection!
  }

  type Organisation {
    id: String!
    name: String!
    nameZh: String
  }

  type DataAccessDuty {
    id: ID!
    "What the duty is, in plain words."
    title: String!
    titleZh: String
  }

  type DataAccess {
    "When the read was recorded (ISO 8601, UTC)."
    time: String!
    organisation: Organisation!
    "The duty the organisation declared for the read."
    duty: DataAccessDuty
    "The case or application number the read was made for, if one was given."
    caseRef: String
    "Names of the fields read (dataset.field); never their values."
    fields: [String!]!
    "Whether it was an emergency (break-glass) read."
    emergency: Boolean!
  }

  type DataAccessEdge {
    cursor: String!
    node: DataAccess!
  }

  type DataAccessConnection {
    edges: [DataAccessEdge!]!
    pageInfo: PageInfo!
    totalCount: Int!
  }
`;

export interface ResidentsResolverDeps {
  readonly disclosure: ResidentDisclosure;
  /** The duty catalogue as the policy engine holds it now (titles and delays). */
  readonly duties: () => readonly DutyDef[];
}

/** A resident ID number (GB 11643): 17 digits and a check character. */
const ID_NUMBER = /^\d{17}[\dX]$/;

export function residentsResolvers(deps: ResidentsResolverDeps): IResolvers {
  return {
    Query: {
      myDataAccess: async (_: unknown, args: { first?: number | null; after?: string | null }, context: object) => {
        const state = resolverContext(context);
        const viewer = state.viewer;
        if (!viewer || !isResident(viewer)) {
          throw new GatewayError('FORBIDDEN', 'myDataAccess is for residents signed in as themselves (role resident, org resident)');
        }
        const idNumber = viewer.sub.trim().toUpperCase();
        if (!ID_NUMBER.test(idNumber)) throw new GatewayError('FORBIDDEN', "a resident's token must name their resident ID number as sub");
        const duties = new Map(deps.duties().map((d) => [d.id, d]));
        const delays = new Map<string, number>();
        for (const d of duties.values()) if ((d.disclosureDelayDays ?? 0) > 0) delays.set(d.id, d.disclosureDelayDays!);
        try {
          const page = await deps.disclosure.page(idNumber, { first: args.first ?? 20, after: args.after, delays });
          return {
            edges: page.edges.map((e) => ({ cursor: e.cursor, node: view(e.node, duties) })),
            pageInfo: page.pageInfo,
            totalCount: () => page.totalCount(),
          };
        } catch (error) {
          if (isGatewayError(error)) throw error;
          throw new GatewayError('SERVICE_UNAVAILABLE', 'the audit trail cannot be read right now', { cause: error });
        }
      },
    },
  };
}

function view(access: ResidentAccess, duties: ReadonlyMap<string, DutyDef>) {
  const duty = access.duty === null ? undefined : duties.get(access.duty);
  return {
    time: access.time.toISOString(),
    organisation: organisationName(access.org),
    duty: access.duty === null ? null : { id: access.duty, title: duty?.title ?? access.duty, titleZh: duty?.titleZh ?? null },
    caseRef: access.caseRef,
    fields: access.fields,
    emergency: access.emergency,
  };
}
