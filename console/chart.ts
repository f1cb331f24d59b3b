import { useState } from 'preact/hooks';
import type { CallStats } from '../schema/calls';
import type { VerifyCode } from '../schema/verify';
import { get } from './api';
import { html } from './html';
import { CODE_GROUP_LABELS, CODE_GROUPS } from './labels';
import { Show, TableWrap, useLoaded } from './ui';

/*
 * Calls per hour by result code, as stacked SVG bars drawn from GET /v1/calls/stats: no chart
 * library, no inline style (colours come from the stylesheet's classes), and the same numbers
 * in a table for anyone who cannot see the bars.
 */

type Group = keyof typeof CODE_GROUP_LABELS;
const GROUPS = Object.keys(CODE_GROUP_LABELS) as Group[];

const WIDTH = 720;
const HEIGHT = 180;
const LEFT = 36;
const BOTTOM = 20;

const hourFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** One bucket's calls by chart group. */
function grouped(counts: Partial<Record<VerifyCode, number>>): Record<Group, number> {
  const totals: Record<Group, number> = { valid: 0, denied: 0, invalid: 0, limited: 0 };
  for (const [code, count] of Object.entries(counts)) totals[CODE_GROUPS[code as VerifyCode]] += count ?? 0;
  return totals;
}

/** The bars. */
function Bars(props: { stats: CallStats; title: string }) {
  const buckets = props.stats.buckets.map((bucket) => ({ at: bucket.at, groups: grouped(bucket.counts) }));
  const totals = buckets.map((bucket) => GROUPS.reduce((sum, group) => sum + bucket.groups[group], 0));
  const max = Math.max(1, ...totals);
  const all = totals.reduce((sum, total) => sum + total, 0);
  const slot = (WIDTH - LEFT) / buckets.length;
  const barWidth = Math.max(1, slot * 0.8);
  const plotHeight = HEIGHT - BOTTOM;
  const labelEvery = Math.ceil(buckets.length / 8);
  const sums = GROUPS.map((group) => [group, buckets.reduce((sum, bucket) => sum + bucket.groups[group], 0)] as const);
  const summary = `${props.title}: ${all} calls in all; ${sums.map(([group, sum]) => `${CODE_GROUP_LABELS[group]}: ${sum}`).join('; ')}. Busiest hour: ${max === 1 && all === 0 ? 0 : max} calls.`;
  return html`<figure class="chart">
    <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${summary} focusable="false">
      <line x1=${LEFT} y1=${plotHeight} x2=${WIDTH} y2=${plotHeight} stroke="#8c959f" />
      <text x=${LEFT - 4} y="10" text-anchor="end" font-size="10" fill="#57606a">${max}</text>
      <text x=${LEFT - 4} y=${plotHeight} text-anchor="end" font-size="10" fill="#57606a">0</text>
      ${buckets.map((bucket, index) => {
        let y = plotHeight;
        const x = LEFT + index * slot + (slot - barWidth) / 2;
        const at = new Date(bucket.at);
        return html`<g key=${bucket.at}>
          ${GROUPS.map((group) => {
            const count = bucket.groups[group];
            if (count === 0) return null;
            const height = (count / max) * (plotHeight - 12);
            y -= height;
            return html`<rect class=${`code-${group}`} x=${x} y=${y} width=${barWidth} height=${height}>
              <title>${hourFormat.format(at)}: ${count} ${CODE_GROUP_LABELS[group].toLowerCase()}</title>
            </rect>`;
          })}
          ${
            index % labelEvery === 0
              ? html`<text x=${x} y=${HEIGHT - 5} font-size="10" fill="#57606a">
                ${buckets.length > 24 ? dayFormat.format(at) : hourFormat.format(at)}
              </text>`
              : null
          }
        </g>`;
      })}
    </svg>
    <figcaption>
      <ul class="legend">
        ${sums.map(
          ([group, sum]) =>
            html`<li key=${group}><span class=${`swatch code-${group}`}></span>${CODE_GROUP_LABELS[group]}: ${sum}</li>`,
        )}
      </ul>
    </figcaption>
    <details>
      <summary>Show these numbers as a table</summary>
      <${TableWrap} label="Calls per hour">
        <table>
          <thead>
            <tr>
              <th scope="col">Hour starting</th>
              ${GROUPS.map((group) => html`<th scope="col" key=${group}>${CODE_GROUP_LABELS[group]}</th>`)}
            </tr>
          </thead>
          <tbody>
            ${buckets
              .filter((_, index) => totals[index]! > 0)
              .map(
                (bucket) => html`<tr key=${bucket.at}>
                  <td><time datetime=${bucket.at}>${dayFormat.format(new Date(bucket.at))} ${hourFormat.format(new Date(bucket.at))}</time></td>
                  ${GROUPS.map((group) => html`<td key=${group}>${bucket.groups[group]}</td>`)}
                </tr>`,
              )}
          </tbody>
        </table>
      <//>
    </details>
  </figure>`;
}

/** Calls per hour for the last 24 hours or 7 days, for one key or the whole workspace. */
export function CallsChart(props: { keyId?: string }) {
  const [hours, setHours] = useState(24);
  const loaded = useLoaded(
    () => get<CallStats>('/v1/calls/stats', { keyId: props.keyId, hours }),
    [props.keyId, hours],
  );
  const title = `Calls per hour, last ${hours === 24 ? '24 hours' : '7 days'}`;
  return html`<section aria-labelledby="chart-title" class="card">
    <h2 id="chart-title">${title}</h2>
    <div class="tabs" role="group" aria-label="Period">
      <button type="button" aria-pressed=${hours === 24 ? 'true' : 'false'} onClick=${() => setHours(24)}>24 hours</button>
      <button type="button" aria-pressed=${hours === 168 ? 'true' : 'false'} onClick=${() => setHours(168)}>7 days</button>
    </div>
    <${Show} loaded=${loaded} what="the chart">${(stats: CallStats) => html`<${Bars} stats=${stats} title=${title} />`}<//>
  </section>`;
}
