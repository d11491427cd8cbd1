//! The `berth` command: `serve`, plus `user create`, `project create` and `config set-auth-mode` for setting up
//! without the console, and `vulndb import`/`vulndb update`/`vulndb status` for the vulnerability database.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context as _;
use berth::config::{Config, LogFormat};
use berth::service::setup::FirstStart;
use berth::{db, serve, service};
use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: a registry allocates many small, short-lived buffers per request on
/// every worker thread, where glibc's per-thread arenas cost time (about a tenth of a manifest GET's CPU) and
/// keep freed memory resident. See docs/benchmarks.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "berth",
    version,
    about = "A multitenant container registry with a browser admin console"
)]
struct Cli {
    /// TOML configuration file (default: ./berth.toml if present). BERTH_* environment variables override it.
    #[arg(long, short, global = true, env = "BERTH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the registry, REST API and console on one port.
    Serve,
    /// Manage users.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage projects.
    Project {
        #[command(subcommand)]
        action: ProjectAction,
    },
    /// Check project quotas.
    Quota {
        #[command(subcommand)]
        action: QuotaAction,
    },
    /// Change the system configuration (as `PUT /api/v2.0/configurations` does).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The local vulnerability database (works while the server runs; it uses the new data without a restart).
    Vulndb {
        #[command(subcommand)]
        action: VulndbAction,
    },
    /// Move a single-node installation (SQLite and blob files under a data directory) onto the backends this
    /// configuration names: PostgreSQL (database_url) and S3 ([storage]). Safe to run while the old node
    /// serves, and to run again: blobs already sent are skipped, and the database copy replaces the last one.
    /// Every blob's digest is checked on the way.
    MigrateStorage {
        /// The old node's data directory (holding berth.db and storage/).
        #[arg(long)]
        from: PathBuf,
        /// Overwrite a target database that already holds users or artifacts (a second run does).
        #[arg(long)]
        replace: bool,
    },
    /// Ask a running Berth whether it answers (for a container's HEALTHCHECK, where no shell or curl exists):
    /// exits 0 on a 2xx answer within 5 s, 1 otherwise.
    Healthcheck {
        /// What to ask; by default `/api/v2.0/ping` on this node's `listen` port over loopback.
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum VulndbAction {
    /// Import OSV dumps (`all.zip`), directories of OSV records, Alpine secdb JSON or the Debian security tracker
    /// JSON into a new generation of the database.
    Import {
        /// OSV `all.zip` files, directories of OSV `*.json` records (or of secdb files with `--format secdb`),
        /// OSV record files, secdb JSON files, Debian tracker JSON files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// The inputs' format (detected from each input when not given).
        #[arg(long, value_enum)]
        format: Option<berth::scan::vulndb::Format>,
        /// Only add and update records; by default each input (but a single OSV record file) is a full dump of
        /// its sources, and their records missing from it are removed.
        #[arg(long)]
        partial: bool,
    },
    /// Refresh the database from the OSV mirror of `[scan] vulndb_url`: per ecosystem, only the records changed
    /// since the last refresh (`modified_id.csv`), or its `all.zip` the first time.
    Update {
        /// The mirror's base URL, instead of `[scan] vulndb_url`.
        #[arg(long)]
        url: Option<String>,
        /// The ecosystems to refresh, comma-separated, instead of `[scan] vulndb_ecosystems`.
        #[arg(long, value_delimiter = ',')]
        ecosystems: Option<Vec<String>>,
        /// Read every ecosystem's `all.zip` (still skipped when its ETag is unchanged).
        #[arg(long)]
        full: bool,
    },
    /// Show the generation in force, its age, its sources and their counts, and the online refresh's state.
    Status,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Set the authentication mode: db_auth, ldap_auth or oidc_auth. A running server sees it after a restart.
    SetAuthMode {
        mode: String,
        /// Change it even though users other than admin exist (Harbor refuses then). The local admin keeps
        /// signing in with its password whatever the mode.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum QuotaAction {
    /// Recompute every project's storage usage from its references and report any drift from the ledger.
    Reconcile {
        /// Rewrite the ledger of drifted projects to match.
        #[arg(long)]
        fix: bool,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Create a local user.
    Create {
        username: String,
        /// The password (8-256 characters with a lowercase letter, an uppercase letter and a digit). Without it,
        /// and without --password-stdin, one is generated and printed.
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        email: Option<String>,
        /// Make the user a system administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Subcommand)]
enum ProjectAction {
    /// Create a project.
    Create {
        name: String,
        /// Anyone may pull from a public project.
        #[arg(long)]
        public: bool,
        /// The user who becomes the project's admin.
        #[arg(long, default_value = "admin")]
        owner: String,
    },
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Transparent huge pages off for this process. mimalloc asks for them on its arenas (`madvise`), and then a
/// few touched bytes keep a whole 2 MiB page resident: an idle server held 17-19 MiB of anonymous memory with
/// them and 9 MiB without, at the same manifest-GET throughput (docs/benchmarks.md). Set first thing, so only
/// what was allocated before `main` may sit in a huge page. Best effort: a kernel without the flag keeps them.
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!(
            "berth: could not turn transparent huge pages off ({e}); memory use may be higher"
        );
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    let config = Config::load(cli.config.as_deref()).context("reading configuration")?;
    init_logging(&config);
    match cli.command {
        Command::Healthcheck { url } => {
            let url = url.unwrap_or_else(|| {
                format!("http://127.0.0.1:{}/api/v2.0/ping", config.listen.port())
            });
            healthcheck(&url).await
        }
        Command::MigrateStorage { from, replace } => {
            let report = berth::migrate::migrate_storage(&config, &from, replace).await?;
            println!(
                "sent {} blobs ({} bytes); {} were there already; {} being deleted were left to the collector",
                report.sent, report.sent_bytes, report.present, report.gone
            );
            println!(
                "copied {} tables ({} rows) into the target database",
                report.tables, report.rows
            );
            Ok(())
        }
        Command::Serve => {
            let listen = config.listen;
            let (state, first) = serve::prepare(config).await?;
            match first {
                FirstStart::CreatedWithPassword(password) => {
                    println!("Created user 'admin' with generated password: {password}");
                    println!(
                        "It is shown only this once. Set BERTH_ADMIN_PASSWORD to choose it yourself."
                    );
                }
                FirstStart::Created => {
                    tracing::info!("created user 'admin' with the configured password")
                }
                FirstStart::AlreadySetUp => {}
            }
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            tracing::info!(address = %listener.local_addr()?, data_dir = %state.config.data_dir.display(), "berth listening");
            serve::run(state, listener, serve::shutdown_signal()).await
        }
        Command::User {
            action:
                UserAction::Create {
                    username,
                    password,
                    password_stdin,
                    email,
                    admin,
                },
        } => {
            let db = open_db(&config).await?;
            let (password, generated) = match (password, password_stdin) {
                (Some(p), _) => (p, false),
                (None, true) => {
                    let mut p = String::new();
                    std::io::stdin()
                        .read_to_string(&mut p)
                        .context("reading password from stdin")?;
                    (p.trim_end_matches(['\n', '\r']).to_owned(), false)
                }
                (None, false) => (service::setup::generate_password(), true),
            };
            let user = service::users::UserSpec {
                username: &username,
                password: &password,
                email: email.as_deref(),
                realname: "",
                sysadmin: admin,
            };
            service::users::create(&db, &user).await?;
            println!("created user {username}");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        Command::Project {
            action:
                ProjectAction::Create {
                    name,
                    public,
                    owner,
                },
        } => {
            let db = open_db(&config).await?;
            service::projects::create(&db, &name, &owner, public).await?;
            println!(
                "created {} project {name}",
                if public { "public" } else { "private" }
            );
            Ok(())
        }
        Command::Quota {
            action: QuotaAction::Reconcile { fix },
        } => reconcile(&config, fix).await,
        Command::Config {
            action: ConfigAction::SetAuthMode { mode, force },
        } => set_auth_mode(&config, &mode, force).await,
        Command::Vulndb {
            action:
                VulndbAction::Import {
                    paths,
                    format,
                    partial,
                },
        } => berth::scan::vulndb::cli::run_import(&config.data_dir, &paths, format, partial).await,
        Command::Vulndb {
            action:
                VulndbAction::Update {
                    url,
                    ecosystems,
                    full,
                },
        } => {
            berth::scan::vulndb::cli::run_update(
                &config.data_dir,
                &config.scan,
                url,
                ecosystems,
                full,
            )
            .await
        }
        Command::Vulndb {
            action: VulndbAction::Status,
        } => berth::scan::vulndb::cli::run_status(&config.data_dir).await,
    }
}

/// `berth config set-auth-mode`: the same checks as the API, but `--force` skips the rule that the mode can
/// only change while no user other than admin exists.
async fn set_auth_mode(config: &Config, mode: &str, force: bool) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let secrets = berth::crypto::SecretBox::load_or_create(&db, config.secret_key.as_ref())
        .await
        .context("loading the key that seals stored secrets (secret_key)")?;
    let live = service::configurations::LiveConfig::load(&db, &secrets, config)
        .await
        .context("loading the system configuration")?;
    let mut changes = serde_json::Map::new();
    changes.insert("auth_mode".to_owned(), serde_json::Value::from(mode));
    let result = service::configurations::update(&db, &secrets, &live, &changes, force).await;
    db.close().await;
    match result {
        Ok(_) => {
            println!("auth_mode is now {mode}");
            Ok(())
        }
        Err(e) if !force && e.to_string() == service::configurations::AUTH_MODE_FROZEN => {
            anyhow::bail!("{e}; use --force to change it anyway")
        }
        Err(e) => Err(e.into()),
    }
}

/// `berth quota reconcile`: prints one line per drifted project; exits non-zero on drift unless fixed.
async fn reconcile(config: &Config, fix: bool) -> anyhow::Result<()> {
    let db = open_db(config).await?;
    let drifts = db
        .reconcile_quotas(fix)
        .await
        .context("reconciling quotas")?;
    if drifts.is_empty() {
        println!("quota ledger consistent: every project's usage matches its references");
        return Ok(());
    }
    for d in &drifts {
        println!(
            "project {}: ledger says {} bytes, references add up to {} bytes{}",
            d.project,
            d.recorded,
            d.actual,
            if fix { " (fixed)" } else { "" }
        );
    }
    if fix {
        Ok(())
    } else {
        anyhow::bail!(
            "{} project(s) drifted; run with --fix to correct the ledger",
            drifts.len()
        )
    }
}

async fn open_db(config: &Config) -> anyhow::Result<db::Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    db::Db::open(&config.database_url())
        .await
        .with_context(|| format!("opening database {}", config.database_url()))
}

/// `berth healthcheck`: one GET of `url`, which must answer 2xx within 5 s.
async fn healthcheck(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("{url} does not answer"))?;
    let status = response.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    Ok(())
}
