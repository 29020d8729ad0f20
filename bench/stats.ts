/** Summaries and formatting for benchmark figures. */

/** The q-quantile (0..1) of `xs` by linear interpolation between closest ranks. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (xs: number[]) => quantile(xs, 0.5);
export const p90 = (xs: number[]) => quantile(xs, 0.9);
export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
export const max = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
export const min = (xs: number[]) => (xs.length ? Math.min(...xs) : NaN);

/**
 * Bootstrap interval (5th–95th percentile) of `stat(a) / stat(b)`, resampling both sides
 * independently with a fixed seed so a run's figures are reproducible from its samples.
 */
export function bootstrapRatio(a: number[], b: number[], stat: (xs: number[]) => number, rounds = 2000): [number, number] {
  let seed = 0x2545f491;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const resample = (xs: number[]) => xs.map(() => xs[Math.floor(rand() * xs.length)]);
  const ratios = Array.from({ length: rounds }, () => stat(resample(a)) / stat(resample(b)));
  return [quantile(ratios, 0.05), quantile(ratios, 0.95)];
}

/** Milliseconds as seconds with two decimals ("1.23 s"), or ms below one second. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** A number with at most `digits` decimals, trailing zeros dropped. */
export function fmtNum(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '—';
  return Number(n.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

export function fmtMiB(kib: number): string {
  return Number.isFinite(kib) ? `${fmtNum(kib / 1024, 0)} MiB` : '—';
}

/** `a ÷ b` as "0.21×"; "—" when either side is missing. */
export function fmtRatio(a: number, b: number): string {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return '—';
  const r = a / b;
  return `${r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

/** One row of a Slipway-vs-peer table. `ratio` defaults to slipway ÷ peer of the raw values. */
export interface Row {
  metric: string;
  slipway: string;
  peer: string;
  ratio: string;
  /** A table with `columns`: one cell per column instead of slipway, peer and ratio. */
  cells?: string[];
}

export function row(metric: string, s: number, p: number, fmt: (n: number) => string): Row {
  return { metric, slipway: fmt(s), peer: fmt(p), ratio: fmtRatio(s, p) };
}

/** A titled table: Slipway | peer | Slipway ÷ peer. */
export interface Table {
  title: string;
  peerName: string;
  rows: Row[];
  notes: string[];
  /** Column heads of a table that compares more than two configurations side by side. */
  columns?: string[];
}

function heads(t: Table): string[] {
  return t.columns ?? ['Slipway', t.peerName, 'Slipway ÷ peer'];
}

function cellsOf(r: Row): string[] {
  return r.cells ?? [r.slipway, r.peer, r.ratio];
}

/** Plain-text rendering for stdout. */
export function renderText(t: Table): string {
  const head = ['', ...heads(t)];
  const body = t.rows.map((r) => [r.metric, ...cellsOf(r)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`== ${t.title}`, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  for (const n of t.notes) out.push(`  · ${n}`);
  return out.join('\n');
}

/** Markdown rendering for docs/benchmarks.md. */
export function renderMarkdown(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const out = [
    `| | ${heads(t).map(esc).join(' | ')} |`,
    `|---|${heads(t)
      .map(() => '---:')
      .join('|')}|`,
    ...t.rows.map((r) => `| ${[r.metric, ...cellsOf(r)].map(esc).join(' | ')} |`),
  ];
  if (t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
