/**
 * `statistics(dataset, groupBy, filter)` (CONTRACT.md § Statistics without individuals): counts of
 * persons or houses per group, inside the caller's street and the duty's row conditions, for the
 * duty in `X-Purpose`. Everything is decided before the source is asked: the duty, the role, the
 * case reference, and that every grouping and filter field is granted at least `aggregate`
 * (policies/statistics/statistics-plan.ts). The source returns grouped counts only
 * (connectors/postgres/postgres-statistics.ts); suppression decides what is shown
 * (policies/statistics/suppression.ts). The answer's one audit event names the fields and the
 * grants, and no person: it carries no subject.
 */
import type { IResolvers } from '@graphql-tools/utils';
import type { Condition } from '../../core/conditions.ts';
import { GatewayError } from '../../core/errors.ts';
import { hasRole } from '../../core/identity.ts';
import type { StatisticsSource } from '../../connectors/connector.ts';
import type { Authorizer } from '../../policies/authorizer.ts';
import { caseRefRefusal } from '../../policies/duty-disclosure.ts';
import {
  ageBandCondition,
  isStatisticsDataset,
  STATISTICS_FIELDS,
  statisticsField,
  type StatisticsDataset,
} from '../../policies/statistics/statistics-fields.ts';
import { kFor, type StatisticsThresholds } from '../../policies/statistics/statistics-k.ts';
import { compileStatisticsPlan } from '../../policies/statistics/statistics-plan.ts';
import { filterLattice, groupedOnlyDrops } from '../../policies/statistics/filter-lattice.ts';
import { answerDomains, fillGrid, groupDomain } from '../../policies/statistics/statistics-domains.ts';
import { suppressCells, type StatisticsCell } from '../../policies/statistics/suppression.ts';
import { resolverContext } from '../resolver-context.ts';

/** At most this many grouping fields: lines of a table of more dimensions are not checked. */
export const MAX_GROUP_BY = 2;
/** At most this many filter conditions: the differencing defence counts under each of their 2^n subsets. */
export const MAX_FILTER_FIELDS = 3;

const filterFields = [...new Set(Object.values(STATISTICS_FIELDS).flat().map((f) => f.name))];

export const statisticsTypeDefs = /* GraphQL */ `
  extend type Query {
    """
    Counts of persons (population) or houses (housing) per group, in your street and under your duty's
    row conditions (X-Purpose). Group and filter fields need at least aggregate access. Counts from 1 to
    k-1 (k is 10 unless configured, never below 5) are suppressed, with complementary suppression.
    Every combination of the grouped fields' values is listed, empty or not (an empty group looks like a
    suppressed one). Group by: population gender, streetCode, ageBand (5-year bands 0-4 to 95-99, and
    100+); housing usage, tenure, streetCode. Filter on those and on population ethnicity.
    """
    statistics(dataset: String!, groupBy: [String!]!, filter: StatisticsFilter): [StatisticsCell!]!
  }

  type StatisticsCell {
    "One value per groupBy field, in groupBy order."
    group: [String]!
    "Null when suppressed."
    count: Int
    suppressed: Boolean!
  }

  input StatisticsEquals {
    eq: String!
  }

  "Equalities only, one per field, at most ${MAX_FILTER_FIELDS} fields (see the differencing defence)."
  input StatisticsFilter {
${filterFields.map((f) => `    ${f}: StatisticsEquals`).join('\n')}
  }
`;

export interface StatisticsResolverDeps {
  readonly authorizer: Authorizer;
  readonly sources: Readonly<Record<StatisticsDataset, StatisticsSource>>;
  readonly thresholds?: StatisticsThresholds;
}

function badInput(message: string, argument: string): GatewayError {
  return new GatewayError('BAD_USER_INPUT', message, { details: { argument } });
}

/** The conditions of a filter, one per field, checked against the dataset's statistics fields. */
function filterConditions(dataset: StatisticsDataset, filter: Record<string, { eq: string } | null | undefined>): [string, Condition][] {
  const out: [string, Condition][] = [];
  for (const [field, value] of Object.entries(filter)) {
    if (value == null) continue;
    if (!statisticsField(dataset, field)) throw badInput(`${dataset} statistics cannot be filtered on ${field}`, 'filter');
    if (field === 'ageBand') {
      const condition = ageBandCondition(value.eq);
      if (!condition) throw badInput('ageBand must be a 5-year band such as 65-69, or 100+', 'filter');
      out.push([field, condition]);
    } else {
      out.push([field, { field, op: 'eq', value: value.eq }]);
    }
  }
  if (out.length > MAX_FILTER_FIELDS) throw badInput(`at most ${MAX_FILTER_FIELDS} filter fields`, 'filter');
  return out;
}

export function statisticsResolvers(deps: StatisticsResolverDeps): IResolvers {
  return {
    Query: {
      statistics: async (
        _: unknown,
        args: { dataset: string; groupBy: string[]; filter?: Record<string, { eq: string } | null> | null },
        context: object,
      ): Promise<StatisticsCell[]> => {
        const state = resolverContext(context);
        const viewer = state.viewer;
        if (!viewer) throw new GatewayError('UNAUTHENTICATED', 'authentication required');
        if (!state.purpose) throw new GatewayError('PURPOSE_REQUIRED', 'declare the duty you are working on in the X-Purpose header');
        if (!hasRole(viewer, 'street_staff')) throw new GatewayError('FORBIDDEN', 'statistics require the street_staff role');
        const dataset = args.dataset;
        if (!isStatisticsDataset(dataset)) throw badInput('statistics are kept for population and housing', 'dataset');

        const groupBy = args.groupBy;
        if (groupBy.length > MAX_GROUP_BY) throw badInput(`group by at most ${MAX_GROUP_BY} fields`, 'groupBy');
        if (new Set(groupBy).size !== groupBy.length) throw badInput('a field appears twice in groupBy', 'groupBy');
        for (const field of groupBy) {
          if (field === 'birthDate' || field === 'age') throw badInput('birth dates group by 5-year age bands (ageBand), never by day or year', 'groupBy');
          if (!statisticsField(dataset, field)) throw badInput(`${dataset} statistics cannot be grouped by ${field}`, 'groupBy');
          // Every cell of the grid is listed, counted or not: only a field whose values are known
          // beforehand can be grouped by (policies/statistics/statistics-domains.ts).
          if (!groupDomain(dataset, field, { streets: [], conditions: [] })) {
            throw badInput(`${dataset} statistics cannot be grouped by ${field}: it has no fixed set of values (it may still be filtered on)`, 'groupBy');
          }
        }
        const conditions = filterConditions(dataset, args.filter ?? {});

        const now = Date.now();
        const plan = compileStatisticsPlan(deps.authorizer.plan(viewer.org, state.purpose, now), dataset, deps.authorizer.grants(), now);
        if (plan.refusal) throw new GatewayError('FORBIDDEN', plan.refusal, { details: { purpose: state.purpose } });
        const noCaseRef = caseRefRefusal(deps.authorizer.duties(), state.purpose, state.caseRef);
        if (noCaseRef) throw noCaseRef;
        const used = [...new Set([...groupBy, ...conditions.map(([f]) => f)])];
        const forbidden = used.filter((f) => !statisticsField(dataset, f)!.needs.some((n) => plan.fields.has(n))).map((f) => `${dataset}.${f}`);
        if (forbidden.length > 0) {
          throw new GatewayError('FORBIDDEN', `purpose "${state.purpose}" does not allow counting by ${forbidden.join(', ')} (needs aggregate access or better)`, {
            details: { purpose: state.purpose, forbiddenFields: forbidden.sort() },
          });
        }
        for (const f of used) state.trace.fields.add(`${dataset}.${f}`);
        const fixed = Object.fromEntries(Object.entries(args.filter ?? {}).map(([f, v]) => [f, v?.eq]));
        const domains = answerDomains(dataset, groupBy, fixed, plan.scope);
        if (!domains) throw badInput('group by streetCode only within your own streets', 'groupBy');

        const rows = await deps.sources[dataset].count({
          scope: plan.scope,
          groupBy,
          filters: filterLattice(conditions.map(([, c]) => c)),
        });
        const filters = 1 << conditions.length;
        const grid = fillGrid(domains, rows, filters);
        const sameByConstruction = groupedOnlyDrops(conditions.map(([f]) => f), groupBy);
        return suppressCells(grid.cells, groupBy.length, kFor(dataset, deps.thresholds), { totals: grid.totals, sameByConstruction }).cells;
      },
    },
  };
}
