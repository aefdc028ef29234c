//! Throwaway PostgreSQL clusters for tests: each lives in a temporary data
//! directory, listens on 127.0.0.1 at a free port, trusts every local
//! connection and disappears when its owner drops it or the test process
//! exits. Needs Debian's server binaries under /usr/lib/postgresql/*/bin,
//! which scripts/install-deps installs.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use sqlx::{Connection, Executor, PgConnection};

/// One PostgreSQL server started by the tests.
pub struct PgCluster {
    bin_dir: PathBuf,
    root: PathBuf,
    port: u16,
    as_postgres_user: bool,
    /// A shell that waits for its standard input to close, then stops the
    /// server and removes `root`. The test process keeps the other end of the
    /// pipe, so the cluster goes away even when a test panics or the process
    /// is killed.
    reaper: Mutex<Option<Child>>,
}

/// Returns the cluster that all tests of one test binary share. It stops when the binary exits.
pub fn shared_cluster() -> &'static PgCluster {
    static SHARED: OnceLock<PgCluster> = OnceLock::new();
    SHARED.get_or_init(PgCluster::start)
}

impl PgCluster {
    /// Creates a data directory and starts a server on it. Panics with a hint
    /// when the PostgreSQL binaries are missing.
    pub fn start() -> PgCluster {
        let bin_dir = find_bin_dir();
        let as_postgres_user = running_as_root();
        let root = tempfile::Builder::new()
            .prefix("easel-pg-")
            .tempdir()
            .expect("failed to create a temporary directory for PostgreSQL")
            .keep();
        if as_postgres_user {
            // initdb refuses to run as root, so the server runs as the postgres user and owns its directory.
            let status = Command::new("chown").arg("postgres:postgres").arg(&root).status().expect("failed to run chown");
            assert!(status.success(), "chown postgres {} failed", root.display());
        }

        let port = free_port();
        let cluster = PgCluster {
            bin_dir,
            root,
            port,
            as_postgres_user,
            reaper: Mutex::new(None),
        };
        cluster.spawn_reaper();
        cluster.run_tool(
            "initdb",
            &["-D", &cluster.data_dir_str(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
        );
        cluster.write_settings();
        cluster.start_server();
        cluster
    }

    /// Returns the URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates an empty database with a unique name and returns its URL. The
    /// database sorts text by ICU's en-US rules when the server supports
    /// them, so tests notice any query that depends on the default collation.
    pub async fn create_database(&self) -> String {
        let name = format!("easel_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&self.url("postgres"))
            .await
            .expect("failed to connect to the test cluster's postgres database");
        let icu = format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        );
        if admin.execute(icu.as_str()).await.is_err() {
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("failed to create a test database");
        }
        let _ = admin.close().await;
        self.url(&name)
    }

    /// Stops the server quickly, disconnecting every client.
    pub fn stop_server(&self) {
        self.run_tool("pg_ctl", &["-D", &self.data_dir_str(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the server on the same directory and port, waiting until it accepts connections.
    pub fn start_server(&self) {
        let log = self.root.join("server.log");
        let started = self.tool("pg_ctl")
            .args(["-D", &self.data_dir_str(), "-l", &log.to_string_lossy(), "-w", "-t", "60", "start"])
            .output()
            .expect("failed to run pg_ctl start");
        if !started.status.success() {
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "pg_ctl start failed:\n{}{}\nserver log:\n{server_log}",
                String::from_utf8_lossy(&started.stdout),
                String::from_utf8_lossy(&started.stderr)
            );
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn data_dir_str(&self) -> String {
        self.data_dir().to_string_lossy().into_owned()
    }

    /// Appends test settings: loopback TCP only, no Unix socket, and no
    /// durability, since the data is thrown away.
    fn write_settings(&self) {
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = ''\nmax_connections = 200\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n",
            self.port
        );
        let path = self.data_dir().join("postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("failed to open postgresql.conf");
        file.write_all(settings.as_bytes()).expect("failed to write postgresql.conf");
    }

    /// Builds a command running one of the server's tools, as the postgres user when the tests run as root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin_dir.join(name);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.stdin(Stdio::null()).current_dir(&self.root);
        command
    }

    fn run_tool(&self, name: &str, args: &[&str]) {
        let output = self.tool(name).args(args).output().unwrap_or_else(|err| panic!("failed to run {name}: {err}"));
        assert!(
            output.status.success(),
            "{name} {} failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn spawn_reaper(&self) {
        let stop = self.tool("pg_ctl");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"root=$1; shift; read -r _line; "$@" >/dev/null 2>&1; rm -rf "$root""#)
            .arg("easel-pg-reaper")
            .arg(&self.root)
            .arg(stop.get_program())
            .args(stop.get_args())
            .args(["-D", &self.data_dir_str(), "-m", "immediate", "-w", "stop"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let reaper = command.spawn().expect("failed to start the cluster's clean-up shell");
        *self.reaper.lock().unwrap() = Some(reaper);
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(mut reaper) = self.reaper.lock().unwrap().take() {
            drop(reaper.stdin.take());
            let _ = reaper.wait();
        }
    }
}

/// Finds the newest PostgreSQL version's binaries, or panics saying how to install them.
fn find_bin_dir() -> PathBuf {
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; \
             run scripts/install-deps (as root) to install Debian's postgresql package"
        ),
    }
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    std::fs::metadata(Path::new("/proc/self")).map(|meta| meta.uid() == 0).unwrap_or(false)
}

/// Returns a loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    listener.local_addr().expect("bound socket has an address").port()
}
