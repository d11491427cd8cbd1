//! `berth vulndb import` and `berth vulndb status`: what they print. The command line lives in `main.rs`.

use std::path::{Path, PathBuf};

use super::{Format, ImportOptions, Status, VulnDb, import};

/// Imports `paths` and prints one line per input and a summary line.
pub async fn run_import(
    data_dir: &Path,
    paths: &[PathBuf],
    format: Option<Format>,
    partial: bool,
) -> anyhow::Result<()> {
    let options = ImportOptions { format, partial };
    let summary = import(data_dir, paths, &options).await?;
    for input in &summary.inputs {
        println!(
            "{} ({}): {} record(s), {} new or changed, {} malformed, {} removed; sources: {}",
            input.path.display(),
            input.format.map_or("?".to_owned(), |f| f.to_string()),
            input.records,
            input.changed,
            input.malformed,
            input.removed,
            input.sources.iter().cloned().collect::<Vec<_>>().join(", "),
        );
    }
    println!("{summary}");
    Ok(())
}

/// Prints the generation in force, its age and its sources (or that there is no database yet).
pub async fn run_status(data_dir: &Path) -> anyhow::Result<()> {
    let db = VulnDb::open(data_dir).await?;
    match db.status().await? {
        None => println!(
            "no vulnerability database yet under {}; load one with `berth vulndb import PATH`",
            super::generation::dir(data_dir).display()
        ),
        Some(status) => print!("{}", render(&status, chrono::Utc::now())),
    }
    Ok(())
}

fn render(status: &Status, now: chrono::DateTime<chrono::Utc>) -> String {
    let age = chrono::DateTime::parse_from_rfc3339(&status.built_at)
        .map(|t| {
            let secs = (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0);
            match secs {
                s if s < 120 => format!("{s} s"),
                s if s < 7_200 => format!("{} min", s / 60),
                s if s < 172_800 => format!("{} h", s / 3_600),
                s => format!("{} days", s / 86_400),
            }
        })
        .unwrap_or_else(|_| "unknown".to_owned());
    let mut out = format!(
        "generation {} built {} ({age} ago), {} advisories, {} affected entries\nfile {}\n",
        status.generation,
        status.built_at,
        status.advisories,
        status.affected,
        status.file.display()
    );
    for s in &status.sources {
        out.push_str(&format!(
            "source {}: {} record(s), {} affected entries, imported {} (generation {}){}\n",
            s.name,
            s.records,
            s.affected,
            s.imported_at,
            s.generation,
            s.max_modified
                .as_deref()
                .map(|m| format!(", newest record modified {m}"))
                .unwrap_or_default()
        ));
    }
    out
}
