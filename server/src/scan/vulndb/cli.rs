//! `berth vulndb import`, `berth vulndb update` and `berth vulndb status`: what they print. The command line
//! lives in `main.rs`.

use std::path::{Path, PathBuf};

use super::online::{self, Settings};
use super::{Format, ImportOptions, Status, VulnDb, import};
use crate::config::ScanConfig;

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

/// Refreshes the database from the OSV mirror of `[scan] vulndb_url` (or `url`), for `[scan]
/// vulndb_ecosystems` (or `ecosystems`): prints one line per ecosystem and what the refresh built. Fails when
/// an ecosystem failed (the others are applied) or nothing could be built.
pub async fn run_update(
    data_dir: &Path,
    scan: &ScanConfig,
    url: Option<String>,
    ecosystems: Option<Vec<String>>,
    full: bool,
) -> anyhow::Result<()> {
    let mut scan = scan.clone();
    if url.is_some() {
        scan.vulndb_url = url;
    }
    if let Some(ecosystems) = ecosystems {
        scan.vulndb_ecosystems = crate::config::Ecosystems(ecosystems);
    }
    let Some(settings) = Settings::from_config(&scan)? else {
        anyhow::bail!(
            "the online refresh is off: set [scan] vulndb_url (BERTH_SCAN__VULNDB_URL) or pass --url"
        );
    };
    let report = online::update(data_dir, &settings, full, &|| false).await?;
    println!(
        "refresh from {} at {}",
        report.check.url, report.check.checked_at
    );
    for check in &report.check.ecosystems {
        println!(
            "{}: {}{}",
            check.ecosystem,
            if check.ok { "" } else { "FAILED: " },
            check.result
        );
    }
    match &report.built {
        Some(summary) => println!("{summary}"),
        None => println!(
            "nothing changed; generation {} stays in force",
            report
                .check
                .generation
                .map_or_else(|| "none".to_owned(), |g| g.to_string())
        ),
    }
    let failed: Vec<&str> = report.failures().map(|c| c.ecosystem.as_str()).collect();
    if !failed.is_empty() {
        anyhow::bail!(
            "the refresh of {} failed; {}",
            failed.join(", "),
            if report.built.is_some() {
                "the other ecosystems were applied"
            } else {
                "nothing changed"
            }
        );
    }
    Ok(())
}

/// Prints the generation in force, its age and its sources (or that there is no database yet).
pub async fn run_status(data_dir: &Path) -> anyhow::Result<()> {
    let db = VulnDb::open(data_dir).await?;
    match db.status().await? {
        None => {
            println!(
                "no vulnerability database yet under {}; load one with `berth vulndb import PATH` or \
                 `berth vulndb update`",
                super::generation::dir(data_dir).display()
            );
            // A first online refresh that failed still says why.
            if let Some(check) = online::last_check(&super::generation::dir(data_dir))? {
                print!("{}", render_online(&[], Some(&check)));
            }
        }
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
    out.push_str(&render_online(&status.online, status.last_check.as_ref()));
    out
}

/// The online refresh's lines of the status: the last check, then per ecosystem what the data holds and how
/// its last check went.
fn render_online(online: &[super::OnlineState], last_check: Option<&online::LastCheck>) -> String {
    let mut out = String::new();
    if let Some(check) = last_check {
        out.push_str(&format!(
            "online refresh: last checked {} from {}\n",
            check.checked_at, check.url
        ));
    }
    let mut ecosystems: Vec<&str> = online.iter().map(|o| o.ecosystem.as_str()).collect();
    for check in last_check.iter().flat_map(|c| &c.ecosystems) {
        if !ecosystems.contains(&check.ecosystem.as_str()) {
            ecosystems.push(&check.ecosystem);
        }
    }
    for ecosystem in ecosystems {
        out.push_str(&format!("online {ecosystem}: "));
        match online.iter().find(|o| o.ecosystem == ecosystem) {
            Some(o) => out.push_str(&format!(
                "refreshed {} from {} by {} ({}), watermark {}",
                o.refreshed_at,
                o.url,
                o.method,
                o.detail,
                o.watermark.as_deref().unwrap_or("none")
            )),
            None => out.push_str("never refreshed"),
        }
        if let Some(check) = last_check
            .iter()
            .flat_map(|c| &c.ecosystems)
            .find(|c| c.ecosystem == ecosystem)
        {
            out.push_str(&format!(
                "; last check: {}{}",
                if check.ok { "" } else { "FAILED: " },
                check.result
            ));
        }
        out.push('\n');
    }
    out
}
