//! The page's stylesheet, inlined into `<style>`.

pub(super) const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1d2330;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 840px; margin: 0 auto; padding: 28px 20px 40px; }
header h1 { display: inline-block; margin: 0 12px 4px 0; font-size: 24px; vertical-align: middle; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12px;
  font-weight: 600; vertical-align: middle; }
.badge.ok { background: #dff3e6; color: #1d6b3c; }
.badge.info { background: #e2ebf8; color: #2b5592; }
.badge.warn { background: #fbefd9; color: #86570f; }
.badge.bad { background: #f9dedd; color: #8f2522; }
.sub { margin: 2px 0; color: #5b6475; font-size: 13px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: #eceef2; padding: 1px 5px; border-radius: 4px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 20px 0; }
.card { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 12px 14px; }
.card .k { color: #5b6475; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .v { font-size: 22px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
.card .s { color: #5b6475; font-size: 12px; }
section { background: #fff; border: 1px solid #e3e6ec; border-radius: 8px; padding: 16px 18px;
  margin: 14px 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
.note, .empty { color: #5b6475; font-size: 13px; margin: 0 0 10px; }
.legend { font-size: 12px; color: #5b6475; margin-bottom: 6px; }
.legend span { margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; vertical-align: -1px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .lbl { font-size: 13px; fill: #1d2330; }
svg .num { font-size: 12px; fill: #5b6475; font-variant-numeric: tabular-nums; }
svg .axis { font-size: 11px; fill: #7a8394; }
svg .grid { stroke: #eceef2; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 13px;
  font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; border-bottom: 1px solid #eceef2; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { color: #5b6475; font-weight: 600; font-size: 12px; }
tr.total td { font-weight: 650; border-top: 1px solid #cfd4dc; }
footer { color: #7a8394; font-size: 12px; margin-top: 18px; text-align: center; }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } }
"#;
