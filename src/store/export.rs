//! `copydesk export`: copies, fills and figures as JSON and CSV files a spreadsheet or a
//! script can read. Decimals are written as exact strings in both formats.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::db::Store;
use super::error::StoreError;
use super::table::fills::Fill;

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub copies: usize,
    pub fills: usize,
    pub figures: usize,
}

impl ExportReport {
    /// What `copydesk export` prints.
    pub fn summary(&self) -> String {
        let files = self
            .files
            .iter()
            .map(|f| format!("  {}", f.display()))
            .collect::<Vec<_>>()
            .join("\n");
        format!(
            "exported {} copies, {} fills and {} figure points to {}:\n{files}",
            self.copies,
            self.fills,
            self.figures,
            self.dir.display()
        )
    }
}

/// Exports the database of data directory `dir` into `out`, by default
/// `<dir>/exports/<UTC milliseconds>`. Reads only: it works while an engine runs.
pub fn export_data_dir(dir: &Path, out: Option<&Path>) -> Result<ExportReport, StoreError> {
    let store = Store::open_read_only(&super::db_path(dir))?;
    let out = out.map_or_else(
        || dir.join("exports").join(super::now_ms().to_string()),
        Path::to_path_buf,
    );
    let report = export(&store, &out)?;
    tracing::info!(dir = %out.display(), "data exported");
    Ok(report)
}

#[derive(Serialize)]
struct FillOut<'a> {
    id: i64,
    #[serde(flatten)]
    fill: &'a Fill,
}

/// Writes `copies`, `fills` and `figures` as `.json` and `.csv` into `out` (created if
/// needed; files of the same name are replaced).
pub fn export(store: &Store, out: &Path) -> Result<ExportReport, StoreError> {
    std::fs::create_dir_all(out).map_err(|e| StoreError::io(out, e))?;
    let copies = store.copies().list()?;
    let fills = store.fills().all()?;
    let figures = store.figures().all()?;
    let mut files = Vec::new();

    files.push(write(out, "copies.json", &json(&copies)?)?);
    let mut csv = Csv::new(&[
        "id",
        "name",
        "leader_id",
        "follower",
        "mode",
        "state",
        "t0",
        "created_at",
        "stopped_at",
        "stop_reason",
    ]);
    for c in &copies {
        csv.row(&[
            c.id.to_string(),
            c.name.clone(),
            c.leader_id.to_string(),
            c.follower.clone(),
            c.mode.to_string(),
            c.state.to_string(),
            opt(c.t0),
            c.created_at.to_string(),
            opt(c.stopped_at),
            c.stop_reason.clone().unwrap_or_default(),
        ]);
    }
    files.push(write(out, "copies.csv", &csv.text)?);

    let fill_rows: Vec<FillOut<'_>> = fills
        .iter()
        .map(|(id, fill)| FillOut { id: *id, fill })
        .collect();
    files.push(write(out, "fills.json", &json(&fill_rows)?)?);
    let mut csv = Csv::new(&[
        "id",
        "copy_id",
        "client_order_id",
        "venue_trade_id",
        "symbol",
        "side",
        "qty",
        "price",
        "fee",
        "fee_asset",
        "realized_pnl",
        "ts",
    ]);
    for (id, f) in &fills {
        csv.row(&[
            id.to_string(),
            f.copy_id.to_string(),
            f.client_order_id.clone().unwrap_or_default(),
            f.venue_trade_id.clone(),
            f.symbol.clone(),
            match f.side {
                crate::domain::Side::Buy => "buy".into(),
                crate::domain::Side::Sell => "sell".into(),
            },
            f.qty.to_string(),
            f.price.to_string(),
            f.fee.to_string(),
            f.fee_asset.clone(),
            f.realized_pnl.to_string(),
            f.ts.to_string(),
        ]);
    }
    files.push(write(out, "fills.csv", &csv.text)?);

    files.push(write(out, "figures.json", &json(&figures)?)?);
    let mut csv = Csv::new(&[
        "copy_id",
        "ts",
        "realized_pnl",
        "unrealized_pnl",
        "fees",
        "funding",
        "equity",
        "roi",
    ]);
    for p in &figures {
        csv.row(&[
            p.copy_id.to_string(),
            p.ts.to_string(),
            p.realized_pnl.to_string(),
            p.unrealized_pnl.to_string(),
            p.fees.to_string(),
            p.funding.to_string(),
            p.equity.to_string(),
            p.roi.to_string(),
        ]);
    }
    files.push(write(out, "figures.csv", &csv.text)?);

    Ok(ExportReport {
        dir: out.to_path_buf(),
        files,
        copies: copies.len(),
        fills: fills.len(),
        figures: figures.len(),
    })
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string_pretty(value).map_err(|e| StoreError::Invalid {
        field: "export",
        message: format!("cannot write JSON ({e})"),
    })
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, StoreError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| StoreError::io(&path, e))?;
    Ok(path)
}

/// A CSV document (RFC 4180 quoting).
struct Csv {
    text: String,
}

impl Csv {
    fn new(header: &[&str]) -> Self {
        let mut csv = Self {
            text: String::new(),
        };
        csv.row(&header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>());
        csv
    }

    fn row(&mut self, fields: &[String]) {
        let line = fields
            .iter()
            .map(|f| {
                if f.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",");
        self.text.push_str(&line);
        self.text.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::Csv;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let mut csv = Csv::new(&["a", "b"]);
        csv.row(&["x,y".into(), "say \"hi\"".into()]);
        assert_eq!(
            csv.text, "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n",
            "commas and quotes must be quoted, quotes doubled"
        );
    }
}
