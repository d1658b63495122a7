// Security officer: operations over time, by decision (allowed / denied / error), purpose or street,
// drawn with uPlot. The counts come from the same search API (newest first, pages of 500, at most
// MAX_EVENTS); when the window holds more, the chart says how many it counted of how many.
import uPlot from '/console/vendor/uplot.mjs';
import { html, useEffect, useRef, useState } from '../../lib/html.js';
import { t } from '../../lib/i18n.js';
import { graphql } from '../../lib/api.js';
import { ErrorBox, FilterForm, Loading } from '../../components/common.js';
import { auditFilterOf, cityDay } from './audit-time.js';

const MAX_EVENTS = 5000;
const PAGE = 500;
const QUERY = /* GraphQL */ `
  query ConsoleAuditTimeline($filter: AuditEventFilter, $after: String) {
    auditEvents(filter: $filter, first: ${PAGE}, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { time decision purpose actor { org } } }
    }
  }
`;
const DECISION_COLOURS = { allow: '#2e7d32', deny: '#e65100', error: '#6a1b9a' };
const PALETTE = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#4e342e', '#558b2f', '#283593'];

export const GROUPINGS = ['decision', 'purpose', 'street'];

function seriesKey(node, by) {
  if (by === 'purpose') return node.purpose ?? '—';
  if (by === 'street') return /^street:/.test(node.actor.org ?? '') ? node.actor.org.slice(7) : t('audit.notAStreet');
  return node.decision;
}

/** Buckets of one hour or one day (city time) over [from, to); counts per series key. */
export function bucketise(nodes, { from, to, bucketMs, by }) {
  const start = Math.floor((from + 8 * 3_600_000) / bucketMs) * bucketMs - 8 * 3_600_000;
  const count = Math.max(1, Math.ceil((to - start) / bucketMs));
  const xs = Array.from({ length: count }, (_, i) => (start + i * bucketMs) / 1000);
  const series = new Map(by === 'decision' ? ['allow', 'deny', 'error'].map((d) => [d, new Array(count).fill(0)]) : []);
  for (const node of nodes) {
    const index = Math.floor((Date.parse(node.time) - start) / bucketMs);
    if (index < 0 || index >= count) continue;
    const key = seriesKey(node, by);
    if (!series.has(key)) series.set(key, new Array(count).fill(0));
    series.get(key)[index] += 1;
  }
  return { xs, series };
}

function Chart({ xs, series, by }) {
  const element = useRef(null);
  useEffect(() => {
    const keys = [...series.keys()];
    const width = Math.max(320, (element.current.clientWidth || 800) - 8);
    const plot = new uPlot(
      {
        width,
        height: 320,
        scales: { x: { time: true } },
        // The axis in city time, as the buckets are, whatever the browser's time zone.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'),
        axes: [{}, { label: t('audit.operations') }],
        series: [
          { label: t('audit.time') },
          ...keys.map((key, i) => ({
            label: by === 'decision' ? t(`decision.${key}`) : key,
            stroke: by === 'decision' ? DECISION_COLOURS[key] : PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: true },
          })),
        ],
      },
      [xs, ...keys.map((k) => series.get(k))],
      element.current,
    );
    return () => plot.destroy();
  }, [xs, series, by]);
  return html`<div class="chart" ref=${element} data-test="timeline-chart"></div>`;
}

export function AuditTimeline({ params }) {
  const by = GROUPINGS.includes(params.get('by')) ? params.get('by') : 'decision';
  const fromDay = params.get('from') || cityDay(-6);
  const toDay = params.get('to') || cityDay(0);
  const bucket = params.get('bucket') === 'hour' || params.get('bucket') === 'day' ? params.get('bucket') : fromDay === toDay ? 'hour' : 'day';
  const [state, setState] = useState({ loading: true });
  const key = params.toString();
  useEffect(() => {
    let live = true;
    const filter = auditFilterOf(new URLSearchParams({ ...Object.fromEntries(params), from: fromDay, to: toDay }));
    (async () => {
      setState({ loading: true });
      const nodes = [];
      let after;
      let total = 0;
      try {
        do {
          const data = await graphql(QUERY, { filter, after });
          const page = data.auditEvents;
          total = page.totalCount;
          nodes.push(...page.edges.map((e) => e.node));
          after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : undefined;
        } while (after && nodes.length < MAX_EVENTS && live);
      } catch (error) {
        if (live) setState({ loading: false, error });
        return;
      }
      if (!live) return;
      const bucketMs = bucket === 'hour' ? 3_600_000 : 86_400_000;
      const { xs, series } = bucketise(nodes, { from: Date.parse(filter.from), to: Date.parse(filter.to), bucketMs, by });
      setState({ loading: false, xs, series, counted: nodes.length, total });
    })();
    return () => {
      live = false;
    };
  }, [key]);
  return html`<section class="view" data-view="audit-timeline">
    <h1>${t('view.auditTimeline')}</h1>
    <${FilterForm}
      params=${new URLSearchParams({ ...Object.fromEntries(params), from: fromDay, to: toDay, by, bucket })}
      fields=${[
        { name: 'from', label: t('audit.from'), type: 'date' },
        { name: 'to', label: t('audit.toInclusive'), type: 'date' },
        { name: 'by', label: t('audit.groupBy'), type: 'select', options: GROUPINGS.map((g) => [g, t(`audit.by.${g}`)]) },
        { name: 'bucket', label: t('audit.bucket'), type: 'select', options: [['hour', t('audit.bucket.hour')], ['day', t('audit.bucket.day')]] },
        { name: 'purpose', label: t('audit.purpose') },
        { name: 'org', label: t('audit.org') },
      ]}
    />
    <${ErrorBox} error=${state.error} />
    ${state.loading ? html`<${Loading} />` : null}
    ${state.xs
      ? html`<p class="hint" data-test="timeline-counted">
            ${state.counted < state.total ? t('audit.countedOf', { counted: state.counted, total: state.total }) : t('audit.counted', { counted: state.counted })}
          </p>
          <${Chart} xs=${state.xs} series=${state.series} by=${by} />
          <table class="data" data-test="timeline-totals">
            <thead><tr><th>${t(`audit.by.${by}`)}</th><th>${t('audit.operations')}</th></tr></thead>
            <tbody>
              ${[...state.series.entries()].map(
                ([k, values]) => html`<tr data-series=${k}>
                  <td>${by === 'decision' ? t(`decision.${k}`) : k}</td>
                  <td class="num">${values.reduce((a, b) => a + b, 0)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`
      : null}
  </section>`;
}
