//! A throwaway PostgreSQL server for one benchmark run: a fresh data
//! directory under the system's temporary directory, listening on
//! 127.0.0.1 at a free port, stopped and removed when dropped. It follows
//! tests/support/postgres.rs, but keeps PostgreSQL's durability settings,
//! since the cost of a synced commit is part of what is measured.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

pub struct PgCluster {
    bin_dir: PathBuf,
    root: PathBuf,
    port: u16,
    as_postgres_user: bool,
    running: bool,
}

impl PgCluster {
    /// Creates a data directory and starts a server on it.
    pub fn start() -> anyhow::Result<PgCluster> {
        let bin_dir = find_bin_dir()?;
        let as_postgres_user = running_as_root();
        let root = std::env::temp_dir().join(format!("easel-bench-pg-{}", std::process::id()));
        if root.exists() {
            std::fs::remove_dir_all(&root).with_context(|| format!("Failed to remove {}", root.display()))?;
        }
        std::fs::create_dir_all(&root).with_context(|| format!("Failed to create {}", root.display()))?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut cluster = PgCluster { bin_dir, root, port, as_postgres_user, running: false };
        if as_postgres_user {
            // initdb refuses to run as root, so the server runs as the postgres user and owns its directory.
            let status = Command::new("chown").arg("postgres:postgres").arg(&cluster.root).status()?;
            if !status.success() {
                bail!("chown postgres {} failed", cluster.root.display());
            }
        }
        let data = cluster.data_dir();
        cluster.run_tool("initdb", &["-D", &data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"])?;
        cluster.write_settings()?;
        let log = cluster.root.join("server.log").to_string_lossy().into_owned();
        cluster.running = true;
        cluster.run_tool("pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "start"])?;
        Ok(cluster)
    }

    /// Returns the URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the server and removes its directory.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if self.running {
            self.running = false;
            let data = self.data_dir();
            self.run_tool("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"])?;
        }
        if self.root.exists() {
            std::fs::remove_dir_all(&self.root).with_context(|| format!("Failed to remove {}", self.root.display()))?;
        }
        Ok(())
    }

    fn data_dir(&self) -> String {
        self.root.join("data").to_string_lossy().into_owned()
    }

    /// Appends the settings: loopback TCP only, room for the pool, and memory
    /// for a catalogue of a million images. fsync and synchronous_commit stay on.
    fn write_settings(&self) -> anyhow::Result<()> {
        let settings = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = ''\nmax_connections = 200\n\
             shared_buffers = 256MB\neffective_cache_size = 1GB\nwork_mem = 16MB\nmaintenance_work_mem = 256MB\n\
             max_wal_size = 4GB\ncheckpoint_timeout = 15min\n",
            self.port
        );
        let path = self.root.join("data/postgresql.conf");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
        file.write_all(settings.as_bytes())?;
        Ok(())
    }

    /// Runs one of the server's tools, as the postgres user when this process is root.
    fn run_tool(&self, name: &str, args: &[&str]) -> anyhow::Result<()> {
        let program = self.bin_dir.join(name);
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let output = command
            .args(args)
            .stdin(Stdio::null())
            .current_dir(&self.root)
            .output()
            .with_context(|| format!("Failed to run {name}"))?;
        if !output.status.success() {
            let log = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
            bail!(
                "{name} {} failed:\n{}{}\n{log}",
                args.join(" "),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Err(err) = self.stop() {
            eprintln!("bench: failed to stop the PostgreSQL cluster: {err:#}");
        }
    }
}

/// Finds the newest PostgreSQL version's server binaries.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
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
        Some((_, bin)) => Ok(bin),
        None => bail!("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; scripts/install-deps installs them"),
    }
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    std::fs::metadata(Path::new("/proc/self")).map(|meta| meta.uid() == 0).unwrap_or(false)
}
