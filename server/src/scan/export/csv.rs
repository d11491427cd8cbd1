//! The export's CSV: Harbor's columns (`src/pkg/scan/export/model.go`), RFC 4180 quoting, and cells that a
//! spreadsheet would run as a formula neutralised with a leading `'` (as Harbor does since its CSV injection
//! fix), since package names and versions come from image content anyone may push.

use std::fmt::Write as _;

/// Harbor's header row.
pub const HEADER: [&str; 10] = [
    "Repository",
    "Artifact Digest",
    "CVE",
    "Package",
    "Current Version",
    "Fixed in version",
    "Severity",
    "CWE Ids",
    "Additional Data",
    "Scanner",
];

/// Appends one row of `cells` to `out`, ended by CRLF (RFC 4180 §2).
pub fn write_row<S: AsRef<str>>(out: &mut String, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_cell(out, cell.as_ref());
    }
    out.push_str("\r\n");
}

fn write_cell(out: &mut String, cell: &str) {
    let formula = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = formula || cell.contains([',', '"', '\n', '\r']) || cell.trim() != cell;
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in cell.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
}

/// The `Additional Data` cell: the finding's CVSS v3 score and vector as JSON, empty without them.
pub fn additional_data(score: Option<f64>, vector: Option<&str>) -> String {
    if score.is_none() && vector.is_none() {
        return String::new();
    }
    let mut cvss = serde_json::Map::new();
    if let Some(score) = score {
        cvss.insert("V3Score".to_owned(), serde_json::Value::from(score));
    }
    if let Some(vector) = vector {
        cvss.insert("V3Vector".to_owned(), serde_json::Value::from(vector));
    }
    let mut out = String::new();
    let _ = write!(out, "{}", serde_json::json!({ "CVSS": cvss }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        let mut out = String::new();
        write_row(&mut out, &HEADER);
        write_row(
            &mut out,
            &[
                "a,b",
                "say \"hi\"",
                "=HYPERLINK(\"x\")",
                "-1",
                "plain",
                " pad",
            ],
        );
        assert_eq!(
            out,
            "Repository,Artifact Digest,CVE,Package,Current Version,Fixed in version,Severity,CWE Ids,\
             Additional Data,Scanner\r\n\"a,b\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",\"'-1\",plain,\" pad\"\r\n"
        );
        assert_eq!(additional_data(None, None), "");
        assert_eq!(
            additional_data(Some(7.5), Some("CVSS:3.1/AV:N")),
            r#"{"CVSS":{"V3Score":7.5,"V3Vector":"CVSS:3.1/AV:N"}}"#
        );
    }
}
