//! Real images for the tests: OCI image layouts written to disk, each with a
//! gzip'ed layer tarball and an image config, pushed with skopeo.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// One platform's image as written: its manifest digest and its size as
/// easel computes it (config plus layer bytes).
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub manifest_digest: String,
    pub size: u64,
}

/// An OCI layout on disk holding one tagged image or index.
pub struct Layout {
    dir: TempDir,
    pub tag: String,
    /// The digest the tag points at: the manifest, or the index for a multi-arch image.
    pub digest: String,
    pub platforms: Vec<(String, BuiltImage)>,
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn write_blob(root: &Path, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let path = root.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    std::fs::write(path, bytes).expect("write blob");
    digest
}

/// Builds a gzip'ed tarball containing one file of `payload` bytes; returns it and its diff id.
fn layer_tarball(payload: &[u8]) -> (Vec<u8>, String) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(payload.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, "etc/easel-test", payload).expect("append to tar");
    let uncompressed = tar.into_inner().expect("finish tar");
    let diff_id = sha256(&uncompressed);

    let mut gzip = GzEncoder::new(Vec::new(), Compression::default());
    gzip.write_all(&uncompressed).expect("gzip layer");
    (gzip.finish().expect("finish gzip"), diff_id)
}

fn write_image(root: &Path, architecture: &str, payload: &[u8]) -> (BuiltImage, usize) {
    let (layer, diff_id) = layer_tarball(payload);
    let layer_digest = write_blob(root, &layer);
    let config = serde_json::to_vec(&json!({
        "architecture": architecture,
        "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }))
    .unwrap();
    let config_digest = write_blob(root, &config);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer_digest, "size": layer.len()}],
    }))
    .unwrap();
    let manifest_digest = write_blob(root, &manifest);
    let image = BuiltImage { manifest_digest, size: (config.len() + layer.len()) as u64 };
    (image, manifest.len())
}

impl Layout {
    /// Builds a single-arch image, such as `amd64`, whose layer contains `payload`.
    pub fn image(tag: &str, architecture: &str, payload: &[u8]) -> Layout {
        Self::build(tag, &[(architecture, payload)], false)
    }

    /// Builds a multi-arch image index with one image per architecture.
    pub fn index(tag: &str, platforms: &[(&str, &[u8])]) -> Layout {
        Self::build(tag, platforms, true)
    }

    fn build(tag: &str, platforms: &[(&str, &[u8])], as_index: bool) -> Layout {
        let dir = tempfile::tempdir().expect("layout dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(root.join("oci-layout"), br#"{"imageLayoutVersion": "1.0.0"}"#).unwrap();

        let mut built = Vec::new();
        let mut entries = Vec::new();
        for (architecture, payload) in platforms {
            let (image, manifest_len) = write_image(root, architecture, payload);
            entries.push(json!({
                "mediaType": MANIFEST_TYPE,
                "digest": image.manifest_digest,
                "size": manifest_len,
                "platform": {"architecture": architecture, "os": "linux"},
            }));
            built.push((architecture.to_string(), image));
        }

        let (top_type, top_digest, top_len) = if as_index {
            let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries}))
                .unwrap();
            (INDEX_TYPE, write_blob(root, &index), index.len())
        } else {
            let entry = &entries[0];
            (MANIFEST_TYPE, entry["digest"].as_str().unwrap().to_owned(), entry["size"].as_u64().unwrap() as usize)
        };
        let layout_index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": top_type,
                "digest": top_digest,
                "size": top_len,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }],
        });
        std::fs::write(root.join("index.json"), serde_json::to_vec(&layout_index).unwrap()).unwrap();

        Layout { dir, tag: tag.to_owned(), digest: top_digest, platforms: built }
    }

    /// Returns the image built for `architecture`.
    pub fn platform(&self, architecture: &str) -> &BuiltImage {
        &self.platforms.iter().find(|(arch, _)| arch == architecture).expect("platform built").1
    }

    fn path(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// Pushes the layout to `host` as `repository:tag` with skopeo.
    pub async fn push(&self, host: &str, repository: &str) {
        let source = format!("oci:{}:{}", self.path().display(), self.tag);
        let destination = format!("docker://{host}/{repository}:{}", self.tag);
        skopeo(&["copy", "--all", "--dest-tls-verify=false", &source, &destination]).await;
    }
}

/// Deletes `repository:tag` from the registry at `host` with skopeo.
pub async fn skopeo_delete(host: &str, repository: &str, tag: &str) {
    let target = format!("docker://{host}/{repository}:{tag}");
    skopeo(&["delete", "--tls-verify=false", &target]).await;
}

async fn skopeo(args: &[&str]) {
    let output = tokio::process::Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .output()
        .await
        .expect("skopeo is missing: run scripts/install-deps");
    assert!(output.status.success(), "skopeo {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
}

/// Returns `len` bytes that gzip cannot shrink, so a layer's size is predictable.
pub fn incompressible(len: usize) -> Vec<u8> {
    use rand::RngCore;
    let mut bytes = vec![0; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes
}

/// Returns a small unique payload, so every built image has its own digest.
pub fn unique_payload() -> Vec<u8> {
    uuid::Uuid::new_v4().to_string().into_bytes()
}
