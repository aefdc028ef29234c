//! A real distribution registry (Debian's `docker-registry`) started for one
//! test on a free loopback port, with its storage in a temporary directory
//! and deletes enabled. It is killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

const BINARY: &str = "docker-registry";
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where the registry sends its notifications, and the secret it sends.
pub struct Notifications {
    pub url: String,
    pub secret: String,
}

pub struct DistributionRegistry {
    child: Option<Child>,
    dir: TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

/// Returns a port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn config_yaml(storage: &Path, host: &str, notifications: Option<&Notifications>) -> String {
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: {host}\n",
        storage.display()
    );
    if let Some(notifications) = notifications {
        yaml.push_str(&format!(
            "notifications:\n  endpoints:\n    - name: easel\n      url: {}\n      headers:\n        \
             Authorization: [\"Bearer {}\"]\n      timeout: 2s\n      threshold: 3\n      backoff: 200ms\n      \
             ignore:\n        actions: [pull]\n",
            notifications.url, notifications.secret
        ));
    }
    yaml
}

impl DistributionRegistry {
    /// Starts a registry and waits until it responds to `GET /v2/`.
    pub async fn start(notifications: Option<&Notifications>) -> DistributionRegistry {
        let dir = tempfile::tempdir().expect("registry dir");
        let host = format!("127.0.0.1:{}", free_port());
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(&config, config_yaml(&storage, &host, notifications)).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();

        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {BINARY} ({err}); run scripts/install-deps to install it"));

        let mut registry = DistributionRegistry { child: Some(child), dir, host };
        registry.wait_until_ready().await;
        registry
    }

    async fn wait_until_ready(&mut self) {
        let client = reqwest::Client::new();
        let url = format!("http://{}/v2/", self.host);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("{BINARY} exited with {status} at start: {}", self.log());
            }
            if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{BINARY} did not answer within {START_TIMEOUT:?}: {}", self.log());
    }

    /// Returns what the registry logged, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Returns the registry's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }

    /// Stops the registry; later requests to it are refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Returns the HTTP status of `GET /v2/{repository}/manifests/{reference}`.
    pub async fn manifest_status(&self, repository: &str, reference: &str) -> u16 {
        let accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, \
                      application/vnd.docker.distribution.manifest.v2+json";
        reqwest::Client::new()
            .get(format!("{}/v2/{repository}/manifests/{reference}", self.url()))
            .header("Accept", accept)
            .send()
            .await
            .expect("registry answers")
            .status()
            .as_u16()
    }
}

impl Drop for DistributionRegistry {
    fn drop(&mut self) {
        self.stop();
    }
}
