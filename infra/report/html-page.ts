import { escapeHtml } from './svg-chart.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:24px auto;max-width:960px;padding:0 16px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #e3e6ee;padding-bottom:4px}
.inputs{color:#5a6275;margin:0 0 16px}.notes{color:#5a6275;font-size:12px;margin-top:24px}
table.summary{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
table.summary th,table.summary td{padding:6px 8px;border-bottom:1px solid #e3e6ee;text-align:right;white-space:nowrap}
table.summary thead th{font-weight:600;color:#5a6275;font-size:12px}
table.summary tbody th,table.summary thead th:first-child{text-align:left}
td.bad{color:#b3261e;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline}
.grid{display:grid;grid-template-columns:repeat(2,1fr);gap:8px}
svg.chart{display:block;max-width:100%;height:auto;margin:6px 0}
.chart-title{font-size:13px;font-weight:600;fill:#1d2330}.legend{font-size:11px;fill:#3b4252}
.tick{font-size:10px;fill:#6b7385}.grid line,line.grid{stroke:#eef0f5;stroke-width:1}
rect.frame{fill:none;stroke:#c9ceda;stroke-width:1}
line.reference{stroke:#b3261e;stroke-width:1;stroke-dasharray:4 3}.reference-label{fill:#b3261e}
`;

/** A self-contained HTML page (inline CSS, no scripts, no external resources). */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body></html>
`;
}
