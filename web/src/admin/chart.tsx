/**
 * A small line chart drawn by hand in SVG (no chart library): one line per series over the
 * hours, a y axis from 0 to the largest value, hour labels every few hours, and a legend.
 * The numbers are also in the image's accessible name, so a screen reader hears them.
 *
 * @module
 */
/// <reference lib="dom" />

export interface Series {
  label: string;
  /** A CSS class that colours the line (admin.css). */
  cls: string;
  values: number[];
}

const W = 640, H = 180, LEFT = 34, RIGHT = 8, TOP = 10, BOTTOM = 22;

export function LineChart(props: { title: string; hours: number[]; series: Series[] }) {
  const { hours, series } = props;
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const n = Math.max(1, hours.length - 1);
  const x = (i: number) => LEFT + ((W - LEFT - RIGHT) * i) / n;
  const y = (v: number) => TOP + (H - TOP - BOTTOM) * (1 - v / max);
  const totals = series.map((s) => `${s.label} ${s.values.reduce((a, b) => a + b, 0)}`);
  const ticks = [0, Math.round(max / 2), max].filter((v, i, a) => a.indexOf(v) === i);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}: ${totals.join(", ")} in the last ${hours.length} hours`}
      >
        {ticks.map((t) => (
          <g key={t}>
            <line class="grid" x1={LEFT} x2={W - RIGHT} y1={y(t)} y2={y(t)} />
            <text class="tick" x={LEFT - 4} y={y(t) + 4} text-anchor="end">{t}</text>
          </g>
        ))}
        {hours.map((h, i) =>
          i % 4 === 0
            ? (
              <text key={h} class="tick" x={x(i)} y={H - 6} text-anchor="middle">
                {String(new Date(h).getHours()).padStart(2, "0")}h
              </text>
            )
            : null
        )}
        {series.map((s) => (
          <polyline
            key={s.label}
            class={`line ${s.cls}`}
            points={s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <figcaption>
        {props.title}:{" "}
        {series.map((s, i) => <span key={s.label} class={`key ${s.cls}`}>{totals[i]}&nbsp;</span>)}
      </figcaption>
    </figure>
  );
}
