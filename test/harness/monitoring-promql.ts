// Reads the PromQL of the monitoring manifests: the alert expressions, the dashboard's queries, and
// the metric names they select (promtool 2.42 has no command that lists them). Syntax is promtool's
// job (monitoring-rules.test.ts); this only has to find names in expressions that already parse.

export interface RuleSpec {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

export interface DashboardQuery {
  /** Where the query lives, for messages: panel title and refId, or the template variable. */
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: { refId?: string; expr?: string }[];
  panels?: Panel[];
}

interface Dashboard {
  panels?: Panel[];
  templating?: { list?: { name: string; type: string; query?: string | { query?: string } }[] };
}

// Words PromQL reserves between and after expressions; a name followed by `(` is a function or aggregation.
const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan', 'start', 'end']);

/** Metric names an expression selects, each once, in order of appearance. */
export function metricNames(expr: string): string[] {
  const names: string[] = [];
  const add = (n: string): void => {
    if (!names.includes(n)) names.push(n);
  };
  // {__name__="x"} names a metric inside a matcher.
  for (const m of expr.matchAll(/__name__\s*=\s*"([^"]+)"/g)) add(m[1]!);
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ') // label lists
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables
    .replace(/(?<![\w:])\d[\w.]*/g, ' '); // numbers and durations (5m, 0.99, 1e3, 0x1f)
  for (const m of s.matchAll(/[a-zA-Z_:][\w:]*/g)) {
    const word = m[0];
    if (/^\s*\(/.test(s.slice(m.index + word.length))) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    add(word);
  }
  return names;
}

/** Every alert and recording expression of a PrometheusRule's spec. */
export function ruleExpressions(spec: RuleSpec): DashboardQuery[] {
  return spec.groups.flatMap((g) => g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record ?? '?'}`, expr: r.expr })));
}

/** Every panel query (rows included) and every query variable's metric selector of a Grafana dashboard. */
export function dashboardQueries(dashboard: unknown): DashboardQuery[] {
  const d = dashboard as Dashboard;
  const out: DashboardQuery[] = [];
  const walk = (panels: Panel[] | undefined): void => {
    for (const p of panels ?? []) {
      for (const target of p.targets ?? []) if (target.expr) out.push({ where: `panel "${p.title ?? '?'}" ${target.refId ?? ''}`.trim(), expr: target.expr });
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const v of d.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
    // label_values(<selector>, <label>): only the selector is PromQL; query_result(<expr>) is an expression.
    const m = /^\s*(?:label_values\((.*),\s*\w+\s*\)|query_result\((.*)\))\s*$/.exec(q);
    const expr = m?.[1] ?? m?.[2];
    if (expr) out.push({ where: `variable $${v.name}`, expr });
    else if (q.trim()) throw new Error(`variable $${v.name}: query "${q}" is not label_values(...) or query_result(...); teach dashboardQueries to read it`);
  }
  return out;
}

/** An expression as Prometheus would see it once Grafana has filled in its variables. */
export function withGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__(?:rate_interval|interval|range)\b|\$\{__(?:rate_interval|interval|range)\}/g, '5m')
    .replace(/\$\{?\w+\}?/g, '.*');
}
