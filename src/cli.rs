//! The command line: `plantview [PROJECT_DIR]` (GUI), `serve`, `check`, `sim`, `user`, `bench`.
//! Errors reach the user here, once, as a message and a non-zero exit code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::engine::{self, EngineOptions};
use crate::project;

mod export;
mod user;

pub use export::ExportArgs;
use export::export;

#[derive(Debug, Parser)]
#[command(
    name = "plantview",
    version,
    about = "PlantView: SCADA/HMI workstation (MQTT telemetry, plant screens, trends, alarms)",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// Project folder to open in the GUI (default: the bundled projects/demo-plant).
    pub project: Option<PathBuf>,
    /// Screen to open first (its file name without .json, e.g. `overview`), or `trends`.
    #[arg(long, value_name = "SCREEN")]
    pub screen: Option<String>,
    /// Pens for the trends page, comma-separated tag names (opens the trends page).
    #[arg(long, value_name = "TAG,TAG,...", value_delimiter = ',')]
    pub pens: Vec<String>,
    /// Time window of the trends page: 10m, 1h, 8h, 24h or 7d.
    #[arg(long, value_name = "WINDOW", default_value = "1h")]
    pub window: String,
    /// Open the screen editor (edit mode; Ctrl+E toggles it in the window).
    #[arg(long)]
    pub edit: bool,
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

/// Overrides of the project's runtime settings (GUI and `serve`).
#[derive(Debug, Clone, Default, Args)]
pub struct Overrides {
    /// Address of the embedded broker (MQTT 3.1.1; MQTT 5 on the next port), e.g. 127.0.0.1:1883.
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub broker_listen: Option<SocketAddr>,
    /// Use this external broker instead of the project's broker setting.
    #[arg(
        long,
        value_name = "mqtt://HOST:PORT",
        global = true,
        conflicts_with = "broker_listen"
    )]
    pub broker_url: Option<String>,
    /// Where runtime data such as history goes (default: <PROJECT_DIR>/data).
    #[arg(long, value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Run the built-in plant simulator even if the project does not enable it.
    #[arg(long, global = true, conflicts_with = "no_sim")]
    pub sim: bool,
    /// Do not run the built-in plant simulator.
    #[arg(long, global = true)]
    pub no_sim: bool,
    /// Do not record history.
    #[arg(long, global = true)]
    pub no_history: bool,
}

impl Overrides {
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            broker_listen: self.broker_listen,
            broker_url: self.broker_url.clone(),
            data_dir: self.data_dir.clone(),
            simulator: if self.sim {
                Some(true)
            } else if self.no_sim {
                Some(false)
            } else {
                None
            },
            no_history: self.no_history,
            broker_password: None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the engine without a window (edge or logging box) until SIGINT/SIGTERM.
    Serve {
        /// Project folder (default: the bundled projects/demo-plant).
        project: Option<PathBuf>,
    },
    /// Validate a project: exit 0 with a summary, or list every problem and exit 1.
    Check {
        /// Project folder.
        project: PathBuf,
    },
    /// Rewrite a valid project's files in the stable format (sorted like the model, pretty,
    /// atomic); nothing is written if the project has problems.
    Fmt {
        /// Project folder.
        project: PathBuf,
    },
    /// Analyse a history file with no plant attached (trends over the file's tags).
    Analyze {
        /// The history file (`history.sqlite`).
        history: PathBuf,
    },
    /// Run a project's screens from its history (time slider, play, speed; writes disabled).
    Replay {
        /// Project folder.
        project: PathBuf,
        /// History file (default: the project's data/history.sqlite).
        #[arg(long)]
        history: Option<PathBuf>,
        /// Start time: ISO 8601 (`2026-11-03T14:00`), or relative (`-2h`); default: the file's
        /// last hour.
        #[arg(long)]
        at: Option<String>,
    },
    /// Export history, the alarm journal or the audit trail to CSV (RFC 4180, ISO 8601 times).
    Export(ExportArgs),
    /// Show what the historian recorded (e.g. by `serve`).
    History {
        /// Project folder.
        project: PathBuf,
        /// Per-tag sample counts and time spans.
        #[arg(long)]
        stats: bool,
    },
    /// Run the demo plant simulator alone against any broker.
    Sim {
        /// Broker address.
        #[arg(long, value_name = "HOST:PORT", required_unless_present = "backfill")]
        broker: Option<String>,
        /// Topic prefix.
        #[arg(long, default_value = "plant")]
        prefix: String,
        /// Also serve the plant's setpoints over Modbus TCP here (e.g. 127.0.0.1:1502).
        #[arg(long, value_name = "HOST:PORT")]
        modbus_listen: Option<SocketAddr>,
        /// Instead of running live: simulate the last HOURS faster than real time and record
        /// them into the history of --project (in its data folder, or --data-dir).
        #[arg(long, value_name = "HOURS", requires = "project")]
        backfill: Option<f64>,
        /// Project whose tags and history the backfill writes.
        #[arg(long, value_name = "PROJECT_DIR")]
        project: Option<PathBuf>,
    },
    /// Run only the embedded MQTT broker until SIGINT/SIGTERM.
    Broker {
        /// MQTT 3.1.1 listener (MQTT 5 on the next port). Anything but loopback needs --user.
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:1883")]
        listen: SocketAddr,
        /// Clients must log in as this user (password from --password-env).
        #[arg(long, requires = "password_env")]
        user: Option<String>,
        /// Environment variable holding the password of --user.
        #[arg(long, value_name = "VAR", requires = "user")]
        password_env: Option<String>,
    },
    /// Manage the users of a project (`<PROJECT_DIR>/users.json`, 0600, git-ignored).
    User {
        #[command(subcommand)]
        what: user::UserCmd,
    },
    /// Measure the engine's hot paths (see README).
    Bench {
        #[command(subcommand)]
        what: crate::bench::BenchCmd,
    },
}

/// Parse the command line and run; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.command.is_none());
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("plantview: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(gui: bool) {
    // rumqttd logs every ordinary client disconnect at ERROR ("router-drop", "no-connection
    // ... already gone"); those two modules stay quiet unless RUST_LOG asks for them.
    let default = if gui {
        "warn,plantview=info,rumqttd::server::broker=off,rumqttd::router::routing=off"
    } else {
        "info,rumqttd=warn,rumqttd::server::broker=off,rumqttd::router::routing=off"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => {
            let dir = project_dir(cli.project.as_deref());
            let start = crate::gui::StartView {
                screen: cli.screen,
                pens: cli.pens,
                window: cli.window,
                edit: cli.edit,
            };
            crate::gui::run(&dir, &cli.overrides.engine_options(), &start)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Serve { project }) => serve(
            &project_dir(project.as_deref()),
            &cli.overrides.engine_options(),
        ),
        Some(Cmd::Check { project }) => Ok(check(&project)),
        Some(Cmd::Fmt { project }) => fmt(&project),
        Some(Cmd::Export(args)) => export(&args),
        Some(Cmd::Analyze { history }) => {
            crate::gui::analyze::run(&history)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Replay {
            project,
            history,
            at,
        }) => {
            let start = at
                .map(|t| crate::report::parse_time(&t, crate::engine::now_ms()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--at: {e}"))?;
            crate::gui::replay::run(&project, history.as_deref(), start)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::History { project, stats }) => {
            history(&project, cli.overrides.data_dir.as_deref(), stats)
        }
        Some(Cmd::Sim {
            broker,
            prefix,
            modbus_listen,
            backfill,
            project,
        }) => match (backfill, project, broker) {
            (Some(hours), Some(dir), _) => {
                sim_backfill(&dir, cli.overrides.data_dir.as_deref(), hours, &prefix)
            }
            (_, _, Some(broker)) => sim(&broker, prefix, modbus_listen),
            _ => anyhow::bail!("give --broker HOST:PORT, or --backfill HOURS --project DIR"),
        },
        Some(Cmd::Broker {
            listen,
            user,
            password_env,
        }) => broker(listen, user.zip(password_env)),
        Some(Cmd::User { what }) => user::run(&what, cli.overrides.data_dir.as_deref()),
        Some(Cmd::Bench { what }) => crate::bench::run(&what),
    }
}

/// The given folder, or the bundled demo project (next to the working directory when run from
/// the repository, else where the crate was built).
pub fn project_dir(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        return p.to_owned();
    }
    let local = PathBuf::from("projects/demo-plant");
    if local.join("project.json").exists() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/demo-plant")
    }
}

fn check(dir: &Path) -> ExitCode {
    match project::load(dir) {
        Ok(p) => {
            let widgets: usize = p.screens.iter().map(|s| s.file.widgets.len()).sum();
            println!(
                "{}: ok: project \"{}\": {} tags, {} alarms, {} screens, {} widgets",
                dir.display(),
                p.name(),
                p.file.tags.len(),
                p.file.alarms.len(),
                p.screens.len(),
                widgets
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            for problem in &e.problems {
                println!("{problem}");
            }
            eprintln!(
                "plantview check: {} problem(s) in {}",
                e.problems.len(),
                dir.display()
            );
            ExitCode::FAILURE
        }
    }
}

fn fmt(dir: &Path) -> anyhow::Result<ExitCode> {
    let p = project::load(dir)?;
    let mut changed = 0;
    let stable = project::to_stable_json(&p.file)?;
    if std::fs::read_to_string(dir.join("project.json"))
        .ok()
        .as_deref()
        != Some(stable.as_str())
    {
        project::save_project_file(dir, &p.file)?;
        println!("formatted project.json");
        changed += 1;
    }
    for s in &p.screens {
        let rel = format!("screens/{}.json", s.id);
        let stable = project::to_stable_json(&s.file)?;
        if std::fs::read_to_string(dir.join(&rel)).ok().as_deref() != Some(stable.as_str()) {
            project::save_screen_file(dir, &s.id, &s.file)?;
            println!("formatted {rel}");
            changed += 1;
        }
    }
    println!("{}: {changed} file(s) rewritten", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn history(dir: &Path, data_dir: Option<&Path>, stats: bool) -> anyhow::Result<ExitCode> {
    let data = data_dir.map_or_else(|| dir.join("data"), Path::to_owned);
    let path = crate::history::history_path(&data);
    anyhow::ensure!(
        path.exists(),
        "no history at {} (run `plantview serve {}` first, or give --data-dir)",
        path.display(),
        dir.display()
    );
    let reader = crate::history::HistoryReader::open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    if !stats {
        println!(
            "{}: {} tags (add --stats for counts and spans)",
            path.display(),
            reader.tags()?.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let rows = reader.stats()?;
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(3).max(3);
    println!(
        "{:<width$}  {:>10}  {:<23}  {:<23}  span",
        "tag", "samples", "first (local)", "last (local)"
    );
    let mut total = 0;
    for r in &rows {
        total += r.count;
        let fmt = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), crate::engine::format_local_ms);
        let span = match (r.first_ts, r.last_ts) {
            (Some(a), Some(b)) => crate::engine::format_duration_ms(b - a),
            _ => "-".to_owned(),
        };
        println!(
            "{:<width$}  {:>10}  {:<23}  {:<23}  {span}",
            r.name,
            r.count,
            fmt(r.first_ts),
            fmt(r.last_ts)
        );
    }
    println!("{} tags, {total} samples in {}", rows.len(), path.display());
    Ok(ExitCode::SUCCESS)
}

fn serve(dir: &Path, options: &EngineOptions) -> anyhow::Result<ExitCode> {
    let project = project::load(dir)?;
    let name = project.name().to_owned();
    let handle = engine::start_asking(project, options)?;
    let status = handle.status();
    tracing::info!(
        project = %name,
        broker = %status.broker,
        simulator = status.simulator,
        data_dir = %status.data_dir.display(),
        "serving; stop with Ctrl+C or SIGTERM"
    );
    let rt = handle.runtime().context("engine runtime is gone")?.clone();
    let mut events = handle.events();
    rt.block_on(async {
        let stop = wait_for_signal();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => break,
                ev = events.recv() => match ev {
                    Ok(engine::EngineEvent::Broker(state)) => tracing::info!(?state, "broker connection"),
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
    tracing::info!("shutting down");
    handle.shutdown();
    Ok(ExitCode::SUCCESS)
}

fn sim(
    broker: &str,
    prefix: String,
    modbus_listen: Option<SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let url = crate::mqtt::BrokerUrl::parse(broker)?;
    if url.tls {
        anyhow::bail!("the simulator connects without TLS; give HOST:PORT");
    }
    let settings = crate::mqtt::ClientSettings::new(
        url.host.clone(),
        url.port,
        format!("plantview-sim-{}", std::process::id()),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("pv-sim")
        .enable_all()
        .build()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    tracing::info!(broker = %url, %prefix, "simulating the demo plant; stop with Ctrl+C");
    rt.block_on(async {
        let sim = tokio::spawn(crate::sim::run(
            settings,
            crate::sim::SimConfig {
                topic_prefix: prefix,
                modbus_listen,
                ..Default::default()
            },
            shutdown.clone(),
        ));
        wait_for_signal().await;
        shutdown.cancel();
        let _ = sim.await;
    });
    Ok(ExitCode::SUCCESS)
}

fn sim_backfill(
    dir: &Path,
    data_dir: Option<&Path>,
    hours: f64,
    prefix: &str,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        hours > 0.0 && hours <= 24.0 * 400.0,
        "--backfill takes 0 < HOURS ≤ 9600"
    );
    let project = project::load(dir)?;
    let data = data_dir.map_or_else(|| project.default_data_dir(), Path::to_owned);
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let path = crate::history::history_path(&data);
    let t = std::time::Instant::now();
    let report = crate::sim::backfill(
        &project,
        &path,
        hours,
        crate::engine::now_ms(),
        prefix,
        0x5eed,
    )
    .map_err(|e| anyhow::anyhow!("backfill into {}: {e}", path.display()))?;
    println!(
        "recorded {} samples from {} to {} into {} in {:.1} s",
        report.samples,
        crate::engine::format_local_ms(report.from_ms),
        crate::engine::format_local_ms(report.to_ms),
        path.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn broker(listen: SocketAddr, account: Option<(String, String)>) -> anyhow::Result<ExitCode> {
    let auth = account
        .map(|(user, var)| {
            std::env::var(&var)
                .map(|password| crate::mqtt::BrokerAuth {
                    users: vec![(user, password)],
                })
                .map_err(|_| anyhow::anyhow!("environment variable {var} is not set"))
        })
        .transpose()?;
    let b = crate::mqtt::EmbeddedBroker::start_with_auth(listen, None, auth.as_ref())?;
    println!(
        "listening on {} (MQTT 3.1.1) and {} (MQTT 5)",
        b.listen, b.listen_v5
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(wait_for_signal());
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
