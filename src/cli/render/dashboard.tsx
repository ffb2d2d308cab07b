// The live area of the Ink dashboard: header, progress, losses, routing,
// evaluation and messages. Pure components of the folded state; the layout
// fits the terminal's height (a frame taller than the terminal makes Ink
// clear the screen on every frame): evaluation and messages stack when they
// fit and sit side by side on a short, wide (≥110 columns) terminal.
import { Box, Text } from "ink";
import { ProgressBar, Spinner } from "@inkjs/ui";
import type { TrainEvent } from "../../train/events.js";
import { bar, fit, formatCount, formatDuration, formatLoss, formatLr, formatPercent, formatRate, plural, sparkline } from "../../view/format.js";
import { shownMetrics } from "../../view/metrics.js";
import { routingRows } from "../../view/routing.js";
import { etaSeconds, routingMeans, type DashboardState, type Message } from "./state.js";
import { formatProgress, formatRanks } from "./lines.js";

type Evaluation = Extract<TrainEvent, { type: "evaluation" }>;

const WIDE = 110;

const Title = ({ children }: { children: string }) => (
  <Text bold color="cyan">
    {children}
  </Text>
);

export function Header({ state, width }: { state: DashboardState; width: number }) {
  const info = state.info;
  if (!info) {
    const p = state.progress;
    return <Spinner label={p ? `sdfn: ${formatProgress(p)}…` : "sdfn: starting (loading data, compiling the network)…"} />;
  }
  const head = `${info.recipeName} · ${info.backend} (${info.device}) · ${formatCount(info.parameters)} params · `;
  return (
    <Text>
      <Text bold>{head}</Text>
      <Text dimColor>{fit(info.runDir, Math.max(8, width - head.length))}</Text>
    </Text>
  );
}

function ProgressRow({ label, fraction, width }: { label: string; fraction: number; width: number }) {
  const pct = `${Math.floor(fraction * 100)}%`.padStart(5);
  return (
    <Box width={width}>
      <Text>{fit(label, 14)}</Text>
      <Box width={Math.max(4, width - 20)}>
        <ProgressBar value={fraction * 100} />
      </Box>
      <Text>{pct}</Text>
    </Box>
  );
}

export function ProgressPanel({ state, width }: { state: DashboardState; width: number }) {
  const info = state.info;
  const e = state.lastStep;
  if (!info) return null;
  if (!e) return <Text dimColor>{`waiting for the first step of ${plural(info.epochs, "epoch")} × ${plural(info.stepsPerEpoch, "step")}…`}</Text>;
  const epochFraction = (e.epoch + (e.epochStep + 1) / e.stepsPerEpoch) / info.epochs;
  const eta = etaSeconds(state);
  const stats = [
    `ETA ${eta === undefined ? "…" : formatDuration(eta)}`,
    `${formatRate(e.samplesPerSec)} samples/s`,
    `lr ${formatLr(e.lr)}`,
    `elapsed ${state.startTime === undefined ? "?" : formatDuration((e.time - state.startTime) / 1000)}`,
    formatRanks(e),
  ]
    .filter(Boolean)
    .join(" · ");
  return (
    <Box flexDirection="column">
      <ProgressRow label={`epoch ${e.epoch + 1}/${info.epochs}`} fraction={epochFraction} width={width} />
      <ProgressRow label={`step ${e.epochStep + 1}/${e.stepsPerEpoch}`} fraction={(e.epochStep + 1) / e.stepsPerEpoch} width={width} />
      <Text>{fit(stats, width)}</Text>
    </Box>
  );
}

/** Loss names in the run's order, then any others, then the total. */
function lossNames(state: DashboardState): string[] {
  const declared = (state.info?.losses ?? []).filter((n) => state.history.has(n));
  const other = [...state.history.keys()].filter((n) => n !== "total" && !declared.includes(n));
  return [...declared, ...other, "total"].filter((n) => state.history.has(n));
}

export function LossesPanel({ state, width }: { state: DashboardState; width: number }) {
  const names = lossNames(state);
  if (names.length === 0) return null;
  const nameWidth = Math.min(24, Math.max(...names.map((n) => n.length)));
  const sparkWidth = Math.max(4, width - nameWidth - 12);
  return (
    <Box flexDirection="column">
      <Title>{fit(`Losses (weighted; last ${Math.min(sparkWidth, state.history.get("total")?.length ?? 0)} steps)`, width)}</Title>
      {names.map((name) => {
        const h = state.history.get(name) ?? [];
        const latest = h[h.length - 1];
        const bad = !Number.isFinite(latest);
        return (
          <Text key={name}>
            <Text bold={name === "total"}>{` ${fit(name, nameWidth)} `}</Text>
            <Text color={bad ? "red" : undefined}>{fit(formatLoss(latest), 9, "right")} </Text>
            <Text color="green">{sparkline(h, sparkWidth)}</Text>
          </Text>
        );
      })}
    </Box>
  );
}

/**
 * How routing rows are laid out in `width` columns: each module a cell of name,
 * bar and value; when a row's modules do not fit on one line (many modules, a
 * narrow terminal) they continue on the next lines.
 */
function routingLayout(state: DashboardState, width: number) {
  const means = routingMeans(state);
  const rows = routingRows(state.info?.layers ?? [], means.length);
  const labelWidth = Math.max(0, ...rows.map((r) => r.label.length)) + 1;
  const moduleCount = Math.max(1, ...means.map((m) => m.length));
  const nameWidth = Math.min(6, Math.max(3, ...rows.flatMap((r) => r.modules.map((m) => m.length))));
  const available = width - labelWidth - 1;
  // A cell: name, space, bar (≥ 3), space, "0.25", two spaces.
  const perLine = Math.max(1, Math.min(moduleCount, Math.floor(available / (nameWidth + 11))));
  const barWidth = Math.floor(available / perLine) - nameWidth - 8;
  const lines = means.reduce((n, row) => n + Math.ceil(row.length / perLine), 0);
  return { means, rows, labelWidth, nameWidth, perLine, barWidth, lines };
}

export function RoutingPanel({ state, width }: { state: DashboardState; width: number }) {
  const { means, rows, labelWidth, nameWidth, perLine, barWidth } = routingLayout(state, width);
  if (means.length === 0) return null;
  return (
    <Box flexDirection="column">
      <Title>{fit(`Routing (mean weight over the last ${state.routing.length} steps)`, width)}</Title>
      {means.flatMap((row, r) =>
        Array.from({ length: Math.ceil(row.length / perLine) }, (_, part) => (
          <Text key={`${r}-${part}`}>
            <Text dimColor>{` ${fit(part === 0 ? rows[r].label : "", labelWidth)}`}</Text>
            {row.slice(part * perLine, (part + 1) * perLine).map((w, i) => {
              const m = part * perLine + i;
              return (
                <Text key={m}>
                  {fit(rows[r].modules[m] ?? `#${m}`, nameWidth)}
                  <Text color="magenta">{` ${bar(w, barWidth, "·")}`}</Text>
                  {` ${Number.isFinite(w) ? w.toFixed(2) : " NaN"}  `}
                </Text>
              );
            })}
          </Text>
        )),
      )}
    </Box>
  );
}

interface Column {
  group: string;
  metric: string;
  name: string;
}

/** Metric columns grouped by category/protocol ("dress/R@10" → dress, R@10), in first-seen order; no avg group for a single set. */
function metricColumns(evaluations: readonly Evaluation[]): Column[] {
  const seen = shownMetrics(evaluations.flatMap((e) => Object.keys(e.metrics))).map((name): Column => {
    const cut = name.lastIndexOf("/");
    return { group: cut < 0 ? "" : name.slice(0, cut), metric: cut < 0 ? name : name.slice(cut + 1), name };
  });
  const groups = [...new Set(seen.map((c) => c.group))];
  return groups.flatMap((g) => seen.filter((c) => c.group === g));
}

const VALUE = 7; // "100.00" and a space

/** Keeps whole groups that fit in `width`, the primary metric's group first. */
function fitColumns(columns: Column[], width: number, primary?: string): Column[] {
  const groups = [...new Set(columns.map((c) => c.group))];
  const primaryGroup = columns.find((c) => c.name === primary)?.group;
  const order = primaryGroup === undefined ? groups : [primaryGroup, ...groups.filter((g) => g !== primaryGroup)];
  const keep = new Set<string>();
  let used = 0;
  for (const g of order) {
    const w = columns.filter((c) => c.group === g).length * VALUE;
    if (used + w > width) break;
    keep.add(g);
    used += w;
  }
  return columns.filter((c) => keep.has(c.group));
}

const LEAD = 11; // the "Evaluation" / epoch column

/** The latest evaluation's reference recalls (chance, single-modality baselines): rows under the table. */
const baselinesOf = (state: DashboardState) => Object.entries(state.evaluations.at(-1)?.baselines ?? {});

/** Columns the evaluation table needs to show every metric. */
const evaluationWidth = (state: DashboardState) => LEAD + metricColumns(state.evaluations).length * VALUE;

export function EvaluationPanel({ state, width, maxRows }: { state: DashboardState; width: number; maxRows: number }) {
  const evals = state.evaluations;
  const best = state.bestEvaluation;
  if (evals.length === 0) return <Title>{fit("Evaluation (none yet)", width)}</Title>;
  const lead = LEAD;
  const all = metricColumns(evals);
  const columns = fitColumns(all, width - lead, best?.primary.name);
  const groups = [...new Set(columns.map((c) => c.group))];
  const groupHeader = groups.map((g) => fit(g, VALUE * columns.filter((c) => c.group === g).length)).join("");
  // Groups that did not fit are named as a count, so nothing disappears silently.
  const hidden = new Set(all.map((c) => c.group)).size - groups.length;
  const note = hidden > 0 ? `+${hidden} hidden` : "";
  const metricHeader = columns.map((c) => fit(c.metric, VALUE - 1, "right") + " ").join("");
  // The most recent evaluations, and the best one when it has scrolled away.
  let shown = evals.slice(-Math.max(1, maxRows));
  if (best && !shown.includes(best)) shown = [best, ...shown.slice(1)];
  return (
    <Box flexDirection="column">
      <Text>
        <Title>{"Evaluation".padEnd(lead)}</Title>
        <Text bold>{groupHeader}</Text>
        <Text dimColor>{lead + groupHeader.length + note.length <= width ? note : ""}</Text>
      </Text>
      <Text dimColor>{`${" epoch".padEnd(lead)}${metricHeader}`}</Text>
      {shown.map((e, i) => {
        const isBest = e === best;
        const values = columns.map((c) => fit(formatPercent(e.metrics[c.name]), VALUE - 1, "right") + " ").join("");
        return (
          <Text key={`${e.epoch}-${i}`} color={isBest ? "green" : undefined} bold={isBest}>
            {`${isBest ? " ★" : "  "} ${String(e.epoch + 1).padStart(5)}   ${values}`}
          </Text>
        );
      })}
      {baselinesOf(state).map(([name, metrics]) => (
        <Text key={name} dimColor>
          {`${fit(` ${name}`, lead)}${columns.map((c) => fit(c.name in metrics ? formatPercent(metrics[c.name]!) : "", VALUE - 1, "right") + " ").join("")}`}
        </Text>
      ))}
    </Box>
  );
}

const toneColor = (tone: Message["tone"]) => (tone === "warning" ? "yellow" : tone === "error" ? "red" : undefined);

export function MessagesPanel({ state, width, maxRows }: { state: DashboardState; width: number; maxRows: number }) {
  const recent = state.messages.slice(-Math.max(0, maxRows));
  return (
    <Box flexDirection="column">
      <Title>Messages</Title>
      {recent.length === 0 ? (
        <Text dimColor>{fit(" (none yet)", width)}</Text>
      ) : (
        recent.map((m, i) => (
          <Text key={`${m.time}-${i}`} color={toneColor(m.tone)}>
            {` ${fit(m.text, width - 1)}`}
          </Text>
        ))
      )}
    </Box>
  );
}

export function Footer({ state, width }: { state: DashboardState; width: number }) {
  if (state.stopped || state.ended) return null;
  if (state.stopping)
    return <Spinner label="stopping after the current step; a checkpoint follows (Ctrl-C again exits now)" />;
  return <Text dimColor>{fit("q: stop after this step and checkpoint · Ctrl-C twice: exit now", width)}</Text>;
}

/**
 * Rows for the evaluation table and the messages so that the frame stays
 * shorter than the terminal; side by side only when stacking does not fit
 * and the terminal is wide.
 */
function plan(state: DashboardState, rows: number, columns: number, width: number) {
  const losses = lossNames(state).length;
  const routing = state.routing.length ? routingLayout(state, width).lines + 1 : 0;
  const fixed = 1 + 3 + (losses ? losses + 1 : 0) + routing + 1; // header, progress, losses, routing, footer
  const budget = Math.max(4, rows - 1 - fixed); // lines left for evaluation and messages
  const evals = state.evaluations.length;
  const references = baselinesOf(state).length; // baseline rows under the evaluation table
  const evalHeight = (n: number) => (evals ? Math.min(n, evals) + 2 + references : 1);
  const wantEval = Math.min(evals, 6);
  const wantMessages = Math.min(Math.max(1, state.messages.length), 5);
  if (evalHeight(wantEval) + 1 + wantMessages <= budget) {
    return { side: false, evalRows: Math.max(1, wantEval), messageRows: budget - evalHeight(wantEval) - 1 };
  }
  if (columns >= WIDE) return { side: true, evalRows: Math.max(1, budget - 2 - references), messageRows: budget - 1 };
  const evalRows = Math.max(1, Math.min(evals, Math.floor((budget - 2 - references) / 2)));
  return { side: false, evalRows, messageRows: Math.max(0, budget - evalHeight(evalRows) - 1) };
}

export function Dashboard({ state, columns, rows }: { state: DashboardState; columns: number; rows: number }) {
  const width = Math.max(40, columns - 1);
  const { side, evalRows, messageRows } = plan(state, rows, columns, width);
  const messages = Math.min(messageRows, 8);
  // Side by side: the table takes what its columns need (up to 2/3), messages the rest.
  const tableWidth = Math.min(Math.floor((width * 2) / 3), Math.max(Math.floor(width / 2), evaluationWidth(state)));
  return (
    <Box flexDirection="column" width={width}>
      <Header state={state} width={width} />
      <ProgressPanel state={state} width={width} />
      <LossesPanel state={state} width={width} />
      <RoutingPanel state={state} width={width} />
      {side ? (
        <Box flexDirection="row" gap={2}>
          <Box width={tableWidth}>
            <EvaluationPanel state={state} width={tableWidth} maxRows={evalRows} />
          </Box>
          <Box width={width - tableWidth - 2}>
            <MessagesPanel state={state} width={width - tableWidth - 2} maxRows={messages} />
          </Box>
        </Box>
      ) : (
        <>
          <EvaluationPanel state={state} width={width} maxRows={evalRows} />
          {messages > 0 && <MessagesPanel state={state} width={width} maxRows={messages} />}
        </>
      )}
      <Footer state={state} width={width} />
    </Box>
  );
}
