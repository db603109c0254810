//! The per-source table under the acceptance chart.

use super::esc;
use crate::report::{fmt_int, fmt_pct};
use crate::stats::Counts;
use std::fmt::Write as _;

pub(super) fn source_table(h: &mut String, c: &Counts) {
    h.push_str(
        "<table><thead><tr><th>source</th><th>problems</th><th>samples</th>\
         <th>accepted</th><th>rejected</th><th>acceptance</th></tr></thead><tbody>",
    );
    for (name, s) in &c.sources {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            fmt_int(s.problems_done),
            fmt_int(s.samples),
            fmt_int(s.accepted),
            fmt_int(s.rejected),
            fmt_pct(s.acceptance_rate())
        );
    }
    if c.sources.len() > 1 {
        let _ = write!(
            h,
            "<tr class=\"total\"><td>total</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            fmt_int(c.problems_done),
            fmt_int(c.samples),
            fmt_int(c.accepted),
            fmt_int(c.rejected),
            fmt_pct(c.acceptance_rate())
        );
    }
    h.push_str("</tbody></table>");
}
