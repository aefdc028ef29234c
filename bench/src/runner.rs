//! The runner seeds a catalogue and starts the easel binary on it. It drives
//! each scenario with wrk from a second process over loopback, measures the
//! two references (the ceiling and the peer registry) the same way, and
//! writes the table as Markdown and JSON.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::cluster::PgCluster;
use crate::seed::{seed_postgres, seed_sqlite, SeedManifest, SeedSize};
use crate::Engine;

const REPORT_LUA: &str = include_str!("../lua/report.lua");
const GET_LUA: &str = include_str!("../lua/get.lua");
const REGISTER_LUA: &str = include_str!("../lua/register.lua");
const MIX_LUA: &str = include_str!("../lua/mix.lua");

/// The settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub size: SeedSize,
    /// Seconds each scenario runs.
    pub seconds: u64,
    /// Seconds of unrecorded load before each scenario, to warm caches.
    pub warmup_seconds: u64,
    /// Connections of the read scenarios and the references.
    pub connections: u32,
    /// Connections of the register scenario: concurrent writing clients.
    pub write_connections: u32,
    pub threads: u32,
    pub work_dir: PathBuf,
    pub results_dir: PathBuf,
    /// The name of the result files: `<label>.md` and `<label>.json`.
    pub label: String,
    pub engine: Engine,
    pub easel: PathBuf,
    pub registry: PathBuf,
    /// The listing cache size easel runs with, or `None` for easel's default.
    pub listing_cache_entries: Option<usize>,
}

/// The figures wrk printed for one scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WrkResult {
    pub requests: u64,
    pub duration_us: u64,
    pub bytes: u64,
    pub connect_errors: u64,
    pub read_errors: u64,
    pub write_errors: u64,
    /// Responses with a status of 400 or above.
    pub status_errors: u64,
    pub timeouts: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl WrkResult {
    fn requests_per_second(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }

    fn errors(&self) -> u64 {
        self.connect_errors + self.read_errors + self.write_errors + self.status_errors + self.timeouts
    }
}

/// One row of the table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub scenario: String,
    pub request: String,
    pub connections: u32,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// The largest resident set of the server during the scenario, in MiB.
    pub max_rss_mib: f64,
    /// Mean response body size in bytes.
    pub mean_response_bytes: u64,
    pub vs_ceiling: Option<f64>,
    pub vs_peer: Option<f64>,
}

/// A target of the issue and whether this run met it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

/// Everything a run writes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub label: String,
    pub engine: String,
    pub machine: String,
    pub seconds_per_scenario: u64,
    pub seed: SeedManifest,
    /// From starting the easel process to its first successful group listing.
    pub first_answer_ms: f64,
    /// The largest resident set of the easel process from start to stop, in MiB.
    pub max_rss_mib: f64,
    /// The `--listing-cache-entries` easel ran with, or `None` for its default.
    pub listing_cache_entries: Option<usize>,
    pub scenarios: Vec<ScenarioResult>,
    pub ceiling: ScenarioResult,
    pub peer: ScenarioResult,
    pub targets: Vec<TargetCheck>,
}

/// One load: a URL and the wrk script that drives it.
struct Scenario {
    name: &'static str,
    method: &'static str,
    path_and_query: String,
    script: String,
    connections: u32,
    env: Vec<(&'static str, String)>,
}

/// A child process that is interrupted and reaped when dropped.
struct Server {
    child: Child,
    name: &'static str,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) -> anyhow::Result<()> {
        self.interrupt()
    }

    fn interrupt(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // SIGINT lets easel and the ceiling finish in-flight requests and exit cleanly.
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().with_context(|| format!("Failed to stop {}", self.name))?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.interrupt();
    }
}

/// Samples a process's resident set from /proc, keeping the maximum since
/// start and since the last [`RssMonitor::take_window`].
struct RssMonitor {
    overall_kib: AtomicU64,
    window_kib: AtomicU64,
    stop: AtomicBool,
}

impl RssMonitor {
    fn start(pid: u32) -> Arc<RssMonitor> {
        let monitor = Arc::new(RssMonitor {
            overall_kib: AtomicU64::new(0),
            window_kib: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let sampler = monitor.clone();
        std::thread::spawn(move || {
            let status = format!("/proc/{pid}/status");
            while !sampler.stop.load(Ordering::Relaxed) {
                if let Some(kib) = read_rss_kib(&status) {
                    sampler.overall_kib.fetch_max(kib, Ordering::Relaxed);
                    sampler.window_kib.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        monitor
    }

    fn take_window_mib(&self) -> f64 {
        self.window_kib.swap(0, Ordering::Relaxed) as f64 / 1024.0
    }

    fn overall_mib(&self) -> f64 {
        self.overall_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for RssMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn read_rss_kib(status_file: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("Failed to find a free port on loopback")?;
    Ok(listener.local_addr()?)
}

/// Sends a plain HTTP/1.1 GET over loopback. Returns the status and the body.
fn http_get(address: SocketAddr, path: &str, token: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nX-Auth-Token: {token}\r\nConnection: close\r\n\r\n")?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .context("the response has no end of headers")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("the response has no status line: {head}"))?;
    Ok((status, response[split + 4..].to_vec()))
}

/// Polls `path` until it returns 200. Returns the time since `since`.
fn wait_for_answer(address: SocketAddr, path: &str, token: &str, since: Instant, server: &mut Server) -> anyhow::Result<Duration> {
    let deadline = since + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("{} exited with {status} before responding; see its log in the work directory", server.name);
        }
        if let Ok((200, _)) = http_get(address, path, token) {
            return Ok(since.elapsed());
        }
        if Instant::now() > deadline {
            bail!("{} did not respond to GET {path} within 120 s", server.name);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn log_file(work_dir: &Path, name: &str) -> anyhow::Result<std::fs::File> {
    let path = work_dir.join(name);
    std::fs::File::create(&path).with_context(|| format!("Failed to create {}", path.display()))
}

/// The number of wrk runs started by this process.
static WRK_RUNS: AtomicU64 = AtomicU64::new(0);

fn run_wrk(options: &RunOptions, address: SocketAddr, scenario: &Scenario, seconds: u64) -> anyhow::Result<WrkResult> {
    let script = options.work_dir.join(format!("{}.lua", scenario.name));
    std::fs::write(&script, format!("{}\n{REPORT_LUA}", scenario.script))?;
    let url = format!("http://{address}{}", scenario.path_and_query);
    let output = Command::new("wrk")
        .arg(format!("-t{}", options.threads.min(scenario.connections)))
        .arg(format!("-c{}", scenario.connections))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout=10s")
        .arg("-s")
        .arg(&script)
        .arg(&url)
        .envs(scenario.env.iter().map(|(key, value)| (*key, value)))
        // Register references carry the run id, so no two wrk runs send the same one.
        .env("BENCH_RUN", format!("{}-{}", std::process::id(), WRK_RUNS.fetch_add(1, Ordering::Relaxed)))
        .stdin(Stdio::null())
        .output()
        .context("Failed to run wrk; scripts/install-deps installs it")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("wrk failed on {url}: {}{}", stdout, String::from_utf8_lossy(&output.stderr));
    }
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("WRK_RESULT "))
        .with_context(|| format!("wrk printed no result for {}: {stdout}", scenario.name))?;
    serde_json::from_str(line).with_context(|| format!("wrk printed an unreadable result: {line}"))
}

fn measure(
    options: &RunOptions,
    address: SocketAddr,
    scenario: &Scenario,
    monitor: &RssMonitor,
) -> anyhow::Result<ScenarioResult> {
    if options.warmup_seconds > 0 {
        run_wrk(options, address, scenario, options.warmup_seconds)?;
    }
    monitor.take_window_mib();
    let result = run_wrk(options, address, scenario, options.seconds)?;
    let row = ScenarioResult {
        scenario: scenario.name.to_owned(),
        request: format!("{} {}", scenario.method, scenario.path_and_query),
        connections: scenario.connections,
        requests_per_second: result.requests_per_second(),
        p50_ms: result.p50_us as f64 / 1000.0,
        p99_ms: result.p99_us as f64 / 1000.0,
        errors: result.errors(),
        max_rss_mib: monitor.take_window_mib(),
        mean_response_bytes: result.bytes / result.requests.max(1),
        vs_ceiling: None,
        vs_peer: None,
    };
    eprintln!(
        "bench: {:<22} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  rss {:.1} MiB",
        row.scenario, row.requests_per_second, row.p50_ms, row.p99_ms, row.errors, row.max_rss_mib
    );
    Ok(row)
}

fn easel_scenarios(options: &RunOptions, seed: &SeedManifest, token: &str) -> Vec<Scenario> {
    let project = &seed.project_id;
    let groups = format!("/v1/{project}/images/group");
    let images = format!("/v1/{project}/images");
    let token_env = ("EASEL_TOKEN", token.to_owned());
    let get = |name, path_and_query: String| Scenario {
        name,
        method: "GET",
        path_and_query,
        script: GET_LUA.to_owned(),
        connections: options.connections,
        env: vec![token_env.clone()],
    };
    vec![
        get("groups_default_page", groups.clone()),
        get("groups_fuzzy_name", format!("{groups}?name={}", seed.fuzzy_needle)),
        get("groups_exact_name", format!("{groups}?name={}&name_fuzzy_match=false", seed.exact_name)),
        get("groups_by_namespace", format!("{groups}?namespace={}", seed.namespace)),
        get("groups_offset_9000", format!("{groups}?offset={}", offset_scenario(seed.size))),
        get("images_default_page", images.clone()),
        get("image_show", format!("{images}/{}", seed.image_id)),
        Scenario {
            name: "register",
            method: "POST",
            path_and_query: images.clone(),
            script: REGISTER_LUA.to_owned(),
            connections: options.write_connections,
            env: vec![token_env.clone()],
        },
        Scenario {
            name: "mix_95_read_5_write",
            method: "GET+POST",
            path_and_query: images,
            script: format!("{REGISTER_LUA}\n{MIX_LUA}"),
            connections: options.connections,
            env: vec![token_env, ("BENCH_READ_PATH", groups)],
        },
    ]
}

/// Returns the offset of the deep-page scenario: 9,000 at the default size, and the
/// same fraction (nine tenths) of the measured project's groups otherwise.
fn offset_scenario(size: SeedSize) -> u64 {
    size.measured_groups * 9 / 10
}

/// Seeds a fresh SQLite file in the work directory. Returns the seed and the database URL.
async fn seed_sqlite_file(options: &RunOptions) -> anyhow::Result<(SeedManifest, String)> {
    let database = options.work_dir.join("catalogue.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", database.display()));
        if file.exists() {
            std::fs::remove_file(&file).with_context(|| format!("Failed to remove {}", file.display()))?;
        }
    }
    eprintln!("bench: seeding {:?} into {}", options.size, database.display());
    let seed = seed_sqlite(&database, options.size).await?;
    Ok((seed, format!("sqlite://{}", database.display())))
}

/// Starts a throwaway PostgreSQL server and seeds its `postgres` database.
async fn seed_cluster(options: &RunOptions) -> anyhow::Result<(SeedManifest, String, PgCluster)> {
    let cluster = PgCluster::start()?;
    let url = cluster.url("postgres");
    eprintln!("bench: seeding {:?} into PostgreSQL at {url}", options.size);
    let seed = seed_postgres(&url, &options.work_dir.join("postgres.repositories"), options.size).await?;
    Ok((seed, url, cluster))
}

/// Runs the whole benchmark on the chosen engine and writes its report.
pub async fn run(options: &RunOptions) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&options.work_dir)?;
    std::fs::create_dir_all(&options.results_dir)?;
    // The cluster, if any, lives until easel has stopped, and is stopped when dropped, even on failure.
    let (seed, database_url, mut cluster) = match options.engine {
        Engine::Sqlite => {
            let (seed, url) = seed_sqlite_file(options).await?;
            (seed, url, None)
        }
        Engine::Postgres => {
            let (seed, url, cluster) = seed_cluster(options).await?;
            (seed, url, Some(cluster))
        }
    };
    eprintln!("bench: seeded in {:.1} s", seed.seconds);
    let master_key = options.work_dir.join("master.key");
    let token = create_token(options, &database_url, &master_key, &seed.project_id)?;

    let address = free_port()?;
    let mut serve = Command::new(&options.easel);
    serve
        .arg("serve")
        .arg("--listen")
        .arg(address.to_string())
        .arg("--database")
        .arg(&database_url)
        .arg("--master-key-file")
        .arg(&master_key);
    if let Some(entries) = options.listing_cache_entries {
        serve.arg("--listing-cache-entries").arg(entries.to_string());
    }
    let started = Instant::now();
    let mut easel = Server {
        child: serve
            .stdout(log_file(&options.work_dir, "easel.out")?)
            .stderr(log_file(&options.work_dir, "easel.log")?)
            .spawn()
            .with_context(|| format!("Failed to start {}", options.easel.display()))?,
        name: "easel",
    };
    let monitor = RssMonitor::start(easel.pid());
    let groups_path = format!("/v1/{}/images/group", seed.project_id);
    let first_answer = wait_for_answer(address, &groups_path, &token, started, &mut easel)?;
    eprintln!("bench: easel responded {:.0} ms after start", first_answer.as_secs_f64() * 1000.0);

    // The ceiling's body is the default page as seeded, before the write scenarios add groups to it.
    let (status, page) = http_get(address, &groups_path, &token)?;
    if status != 200 {
        bail!("the group listing returned {status}");
    }

    let mut scenarios = Vec::new();
    for scenario in easel_scenarios(options, &seed, &token) {
        scenarios.push(measure(options, address, &scenario, &monitor)?);
    }
    easel.stop()?;
    let max_rss_mib = monitor.overall_mib();
    drop(monitor);
    if let Some(cluster) = cluster.as_mut() {
        cluster.stop()?;
    }

    let ceiling = measure_ceiling(options, &page, &groups_path)?;
    let peer = measure_peer(options, &seed)?;
    for row in &mut scenarios {
        row.vs_ceiling = Some(row.requests_per_second / ceiling.requests_per_second);
        row.vs_peer = Some(row.requests_per_second / peer.requests_per_second);
    }

    let report = Report {
        label: options.label.clone(),
        engine: options.engine.as_str().to_owned(),
        machine: describe_machine(),
        seconds_per_scenario: options.seconds,
        targets: check_targets(options.engine, &scenarios, first_answer.as_secs_f64() * 1000.0, max_rss_mib),
        seed,
        first_answer_ms: first_answer.as_secs_f64() * 1000.0,
        max_rss_mib,
        listing_cache_entries: options.listing_cache_entries,
        scenarios,
        ceiling,
        peer,
    };
    write_report(options, &report)?;
    Ok(report)
}

fn create_token(options: &RunOptions, database_url: &str, master_key: &Path, project: &str) -> anyhow::Result<String> {
    let output = Command::new(&options.easel)
        .args(["token", "create", "--project-id", project, "--ttl", "24h", "--database", database_url])
        .arg("--master-key-file")
        .arg(master_key)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("Failed to run {} token create", options.easel.display()))?;
    if !output.status.success() {
        bail!("easel token create failed with {}", output.status);
    }
    #[derive(Deserialize)]
    struct Issued {
        token: String,
    }
    let issued: Issued = serde_json::from_slice(&output.stdout).context("easel token create printed no token")?;
    Ok(issued.token)
}

fn measure_ceiling(options: &RunOptions, body: &[u8], path: &str) -> anyhow::Result<ScenarioResult> {
    let body_file = options.work_dir.join("ceiling-body.json");
    std::fs::write(&body_file, body)?;
    let address = free_port()?;
    let exe = std::env::current_exe()?;
    let mut ceiling = Server {
        child: Command::new(exe)
            .arg("ceiling")
            .arg("--listen")
            .arg(address.to_string())
            .arg("--body-file")
            .arg(&body_file)
            .stdout(log_file(&options.work_dir, "ceiling.out")?)
            .stderr(log_file(&options.work_dir, "ceiling.log")?)
            .spawn()
            .context("Failed to start the ceiling server")?,
        name: "the ceiling server",
    };
    let monitor = RssMonitor::start(ceiling.pid());
    wait_for_answer(address, path, "", Instant::now(), &mut ceiling)?;
    let scenario = Scenario {
        name: "ceiling",
        method: "GET",
        path_and_query: path.to_owned(),
        script: GET_LUA.to_owned(),
        connections: options.connections,
        env: vec![],
    };
    let row = measure(options, address, &scenario, &monitor)?;
    ceiling.stop()?;
    Ok(row)
}

/// Lays out the peer registry's filesystem storage with one repository per
/// seeded group: the catalogue endpoint of distribution 2.8 lists every
/// directory under `repositories/` that has a `_layers` directory.
/// Creating the directories takes minutes at the default size, so storage
/// laid out for the same repository list by an earlier run is kept.
fn populate_registry(root: &Path, seed: &SeedManifest) -> anyhow::Result<()> {
    let repositories = std::fs::read_to_string(&seed.repositories_file)
        .with_context(|| format!("Failed to read {}", seed.repositories_file.display()))?;
    let marker = root.join("populated-from.repositories");
    if std::fs::read_to_string(&marker).is_ok_and(|done| done == repositories) {
        return Ok(());
    }
    if root.exists() {
        std::fs::remove_dir_all(root).with_context(|| format!("Failed to remove {}", root.display()))?;
    }
    let base = root.join("docker/registry/v2/repositories");
    for repository in repositories.lines() {
        for marker in ["_layers", "_manifests", "_uploads"] {
            let dir = base.join(repository).join(marker);
            std::fs::create_dir_all(&dir).with_context(|| format!("Failed to create {}", dir.display()))?;
        }
    }
    std::fs::write(&marker, repositories).with_context(|| format!("Failed to write {}", marker.display()))
}

fn measure_peer(options: &RunOptions, seed: &SeedManifest) -> anyhow::Result<ScenarioResult> {
    let root = options.work_dir.join("registry");
    populate_registry(&root, seed)?;
    let address = free_port()?;
    let config = options.work_dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {address}\n",
            root.display()
        ),
    )?;
    let mut registry = Server {
        child: Command::new(&options.registry)
            .arg("serve")
            .arg(&config)
            .stdout(log_file(&options.work_dir, "registry.out")?)
            .stderr(log_file(&options.work_dir, "registry.log")?)
            .spawn()
            .with_context(|| format!("Failed to start {}; scripts/install-deps installs it", options.registry.display()))?,
        name: "the peer registry",
    };
    let monitor = RssMonitor::start(registry.pid());
    let path = "/v2/_catalog?n=10";
    wait_for_answer(address, path, "", Instant::now(), &mut registry)?;
    let scenario = Scenario {
        name: "peer_catalog",
        method: "GET",
        path_and_query: path.to_owned(),
        script: GET_LUA.to_owned(),
        connections: options.connections,
        env: vec![],
    };
    let row = measure(options, address, &scenario, &monitor)?;
    registry.stop()?;
    Ok(row)
}

fn describe_machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} cores, {model}")
}

fn find<'a>(rows: &'a [ScenarioResult], name: &str) -> Option<&'a ScenarioResult> {
    rows.iter().find(|row| row.scenario == name)
}

/// Checks the targets of an engine. On PostgreSQL even a cached listing waits
/// for a query to the database, which checks that no replica wrote since the
/// listing was read. Requests queued behind one such query share the next,
/// but the server shares the machine's cores, so its ceiling ratios are half
/// of SQLite's.
fn check_targets(engine: Engine, rows: &[ScenarioResult], first_answer_ms: f64, max_rss_mib: f64) -> Vec<TargetCheck> {
    let (default_ratio, deep_ratio) = match engine {
        Engine::Sqlite => (0.5, 0.25),
        Engine::Postgres => (0.25, 0.125),
    };
    let mut checks = Vec::new();
    let mut check = |target: String, measured: String, met: bool| {
        checks.push(TargetCheck { target, measured, met });
    };
    if let Some(row) = find(rows, "groups_default_page") {
        let ratio = row.vs_ceiling.unwrap_or(0.0);
        check(
            format!("groups default page >= {default_ratio} of the ceiling's requests/s"),
            format!("{ratio:.2}"),
            ratio >= default_ratio,
        );
        check("groups default page p99 under 10 ms".to_owned(), format!("{:.2} ms", row.p99_ms), row.p99_ms < 10.0);
        let peer = row.vs_peer.unwrap_or(0.0);
        check("groups default page >= 10x the peer's requests/s".to_owned(), format!("{peer:.1}x"), peer >= 10.0);
    }
    for (name, what) in [("groups_fuzzy_name", "groups fuzzy name"), ("groups_offset_9000", "groups at offset 9,000")] {
        if let Some(row) = find(rows, name) {
            let ratio = row.vs_ceiling.unwrap_or(0.0);
            check(format!("{what} >= {deep_ratio} of the ceiling"), format!("{ratio:.3}"), ratio >= deep_ratio);
        }
    }
    if let Some(row) = find(rows, "register") {
        check(
            "register >= 2,000 images/s sustained, none failed".to_owned(),
            format!("{:.0} images/s, {} errors", row.requests_per_second, row.errors),
            row.requests_per_second >= 2000.0 && row.errors == 0,
        );
    }
    check("server RSS under 150 MiB throughout".to_owned(), format!("{max_rss_mib:.1} MiB"), max_rss_mib < 150.0);
    check("first answer within 1 s of start".to_owned(), format!("{first_answer_ms:.0} ms"), first_answer_ms <= 1000.0);
    checks
}

fn format_ratio(ratio: Option<f64>) -> String {
    ratio.map(|r| format!("{r:.2}")).unwrap_or_else(|| "-".to_owned())
}

fn markdown(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!("# easel benchmark: {} ({})\n\n", report.label, report.engine));
    out.push_str(&format!(
        "Machine: {}. Catalogue: {} images in {} groups over {} projects; the measured project holds {} groups \
         (seeded in {:.1} s). Each scenario ran {} s with wrk on loopback. First answer {:.0} ms after start; \
         largest server RSS {:.1} MiB{}.{}\n\n",
        report.machine,
        report.seed.size.images,
        report.seed.size.groups,
        report.seed.size.projects,
        report.seed.size.measured_groups,
        report.seed.seconds,
        report.seconds_per_scenario,
        report.first_answer_ms,
        report.max_rss_mib,
        if report.engine == "postgres" { " (easel's process only; PostgreSQL's processes are not counted)" } else { "" },
        match report.listing_cache_entries {
            Some(0) => " The listing cache was off, so every listing was read from the database.".to_owned(),
            Some(entries) => format!(" The listing cache kept {entries} listings of each kind."),
            None => String::new(),
        },
    ));
    out.push_str("| scenario | connections | requests/s | p50 ms | p99 ms | errors | RSS MiB | body bytes | vs ceiling | vs peer |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in report.scenarios.iter().chain([&report.ceiling, &report.peer]) {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} | {:.1} | {} | {} | {} |\n",
            row.scenario,
            row.connections,
            row.requests_per_second,
            row.p50_ms,
            row.p99_ms,
            row.errors,
            row.max_rss_mib,
            row.mean_response_bytes,
            format_ratio(row.vs_ceiling),
            format_ratio(row.vs_peer),
        ));
    }
    out.push_str("\n| target | measured | met |\n|---|---|---|\n");
    for check in &report.targets {
        out.push_str(&format!("| {} | {} | {} |\n", check.target, check.measured, if check.met { "yes" } else { "no" }));
    }
    out.push_str("\nRequests:\n\n");
    for row in report.scenarios.iter().chain([&report.ceiling, &report.peer]) {
        out.push_str(&format!("- {}: `{}`\n", row.scenario, row.request));
    }
    out
}

fn write_report(options: &RunOptions, report: &Report) -> anyhow::Result<()> {
    let json_path = options.results_dir.join(format!("{}.json", options.label));
    let markdown_path = options.results_dir.join(format!("{}.md", options.label));
    std::fs::write(&json_path, serde_json::to_string_pretty(report)? + "\n")
        .with_context(|| format!("Failed to write {}", json_path.display()))?;
    std::fs::write(&markdown_path, markdown(report)).with_context(|| format!("Failed to write {}", markdown_path.display()))?;
    eprintln!("bench: wrote {} and {}", markdown_path.display(), json_path.display());
    print!("{}", markdown(report));
    Ok(())
}
