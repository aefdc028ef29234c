//! The harness: [`Service::start`] runs `easel serve` with its log captured,
//! and [`Service::easel`] runs a client command with the service's endpoint
//! and credentials in the environment.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

/// The binary under test.
pub const EASEL: &str = env!("CARGO_BIN_EXE_easel");

/// The project of every test service.
pub const PROJECT: &str = "0123456789abcdef0123456789abcdef";

/// How long the harness waits for the service to log a line it expects, so
/// that a service that never starts fails the test instead of stalling it.
const LOG_WAIT: Duration = Duration::from_secs(60);

/// The lines the service wrote to stderr so far.
#[derive(Default)]
pub struct Log {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

impl Log {
    /// Returns every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("the log lock is not poisoned").clone()
    }

    /// Waits until a line contains `needle` and returns it.
    pub fn wait_for(&self, needle: &str) -> String {
        let lines = self.lines.lock().expect("the log lock is not poisoned");
        let (lines, timeout) = self
            .grew
            .wait_timeout_while(lines, LOG_WAIT, |lines| !lines.iter().any(|line| line.contains(needle)))
            .expect("the log lock is not poisoned");
        assert!(!timeout.timed_out(), "the service never logged {needle:?}; log:\n{}", lines.join("\n"));
        lines.iter().find(|line| line.contains(needle)).cloned().expect("the line was found")
    }
}

/// A running `easel serve` with one access key for [`PROJECT`].
pub struct Service {
    child: Child,
    pub endpoint: String,
    pub access: String,
    pub secret: String,
    pub log: Arc<Log>,
    data_dir: TempDir,
}

/// Settings of the service a test may change.
pub struct Options<'a> {
    pub log_format: &'a str,
    /// The `RUST_LOG` filter.
    pub log_filter: &'a str,
    pub extra_args: &'a [&'a str],
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options { log_format: "json", log_filter: "info", extra_args: &[] }
    }
}

impl Service {
    /// Starts the service with the default options.
    pub fn start() -> Service {
        Service::start_with(Options::default())
    }

    /// Creates an access key, starts `easel serve` on port 0 and waits until it listens.
    pub fn start_with(options: Options<'_>) -> Service {
        let data_dir = tempfile::tempdir().expect("a temporary directory can be created");
        let database = format!("sqlite://{}/easel.db", data_dir.path().display());
        let master_key = data_dir.path().join("master.key").display().to_string();
        let store_args = ["--database", database.as_str(), "--master-key-file", master_key.as_str()];

        let created = run(Command::new(EASEL).args(["access-key", "create", "--project-id", PROJECT]).args(store_args));
        assert!(created.status.success(), "access-key create failed: {}", String::from_utf8_lossy(&created.stderr));
        let key: Value = serde_json::from_slice(&created.stdout).expect("access-key create prints JSON");

        let mut child = Command::new(EASEL)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", options.log_format])
            .args(store_args)
            .args(options.extra_args)
            .env("RUST_LOG", options.log_filter)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("easel serve starts");
        let log = Arc::new(Log::default());
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lines.lock().expect("the log lock is not poisoned").push(line);
                sink.grew.notify_all();
            }
        });

        let started = log.wait_for("easel started");
        let address = listen_address(&started);
        Service {
            child,
            endpoint: format!("http://{address}"),
            access: key["access"].as_str().expect("the key has an access part").to_owned(),
            secret: key["secret"].as_str().expect("the key has a secret part").to_owned(),
            log,
            data_dir,
        }
    }

    /// Returns the process id of the service.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Returns the address the service listens on, `127.0.0.1:PORT`.
    pub fn address(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
    }

    /// Returns the `--database` and `--master-key-file` arguments of this service's store.
    pub fn store_args(&self) -> Vec<String> {
        vec![
            "--database".into(),
            format!("sqlite://{}/easel.db", self.data_dir.path().display()),
            "--master-key-file".into(),
            self.data_dir.path().join("master.key").display().to_string(),
        ]
    }

    /// Runs `easel ARGS` with this service's endpoint, project and access key in the environment.
    pub fn easel(&self, args: &[&str]) -> Output {
        run(self.client().args(args))
    }

    /// Returns a client command with the endpoint, project and access key set and no token.
    pub fn client(&self) -> Command {
        let mut command = Command::new(EASEL);
        command
            .env("EASEL_ENDPOINT", &self.endpoint)
            .env("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
            .env("HUAWEICLOUD_SDK_AK", &self.access)
            .env("HUAWEICLOUD_SDK_SK", &self.secret)
            .env_remove("EASEL_TOKEN");
        command
    }

    /// Creates a token for [`PROJECT`] with `easel token create`.
    pub fn token(&self) -> String {
        let output = run(Command::new(EASEL).args(["token", "create", "--project-id", PROJECT]).args(self.store_args()));
        assert!(output.status.success(), "token create failed: {}", String::from_utf8_lossy(&output.stderr));
        let token: Value = serde_json::from_slice(&output.stdout).expect("token create prints JSON");
        token["token"].as_str().expect("the token is a string").to_owned()
    }

    /// Sends `GET path` without credentials and returns the status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        send(self.address(), &format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.address()))
    }

    /// Sends SIGTERM to the service.
    pub fn send_sigterm(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("kill runs");
        assert!(sent.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits for the service to exit; returns whether it exited successfully.
    pub fn wait_for_exit(mut self) -> bool {
        self.child.wait().expect("the service can be waited for").success()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Already exited when the test called terminate; then kill fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `listen.address` from the start line, in either log format.
fn listen_address(line: &str) -> String {
    if let Ok(event) = serde_json::from_str::<Value>(line) {
        if let Some(address) = event["listen.address"].as_str() {
            return address.to_owned();
        }
    }
    line.split_whitespace()
        .find_map(|field| field.strip_prefix("listen.address="))
        .unwrap_or_else(|| panic!("the start line has no listen.address: {line}"))
        .to_owned()
}

/// Runs a command to its end.
pub fn run(command: &mut Command) -> Output {
    command.stdin(Stdio::null()).output().expect("the command runs")
}

/// Sends raw HTTP/1.1 bytes and returns the status and body of the response.
pub fn send(address: &str, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the service accepts connections");
    stream.set_read_timeout(Some(LOG_WAIT)).expect("a read timeout can be set");
    stream.write_all(request.as_bytes()).expect("the request can be sent");
    read_response(&mut stream)
}

/// Reads one response from a stream whose request sent `Connection: close`.
pub fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("the response can be read");
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {raw}"));
    let body = raw.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// Returns stdout as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Returns stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Returns stdout parsed as JSON, failing with both streams when it is not.
pub fn json(output: &Output) -> Value {
    assert!(output.status.success(), "the command failed: {}{}", stdout(output), stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("stdout is not JSON ({err}): {}", stdout(output)))
}
