// What every sdfn HTML page shares (report.html, the gallery page, sdfn compare --html):
// HTML escaping and the base style sheet.

export const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d2430; background: #fff; margin: 0; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #dde3ea; padding-bottom: 4px; }
.sub, .note { color: #5b6675; margin: 4px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 16px; }
.card { border: 1px solid #dde3ea; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 18px; }
.card span { color: #5b6675; font-size: 12px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 12px 20px; }
svg { max-width: 100%; height: auto; }
svg .chart-title { font-weight: 600; font-size: 13px; fill: #1d2430; }
svg .tick, svg .legend, svg .empty { font-size: 11px; fill: #5b6675; }
svg .axis { font-size: 11px; fill: #1d2430; }
svg .grid { stroke: #e8ecf1; }
svg .frame { fill: none; stroke: #c9d1db; }
svg .marker { stroke: #59a14f; stroke-dasharray: 3 3; }
svg .marker-label { font-size: 11px; fill: #2f7d32; }
table { border-collapse: collapse; margin-top: 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eef1f5; }
th { background: #f6f8fa; } td:first-child, th:first-child { text-align: left; }
tr.best td { font-weight: 600; color: #2f7d32; } tr.baseline td { color: #6a737d; font-style: italic; }
pre { background: #f6f8fa; border: 1px solid #dde3ea; border-radius: 6px; padding: 12px; overflow: auto; font-size: 12.5px; }
ul.events { padding-left: 18px; } ul.events li.warning { color: #9a6700; } ul.events li.error { color: #b42318; }
.warn { color: #b42318; }
`;
