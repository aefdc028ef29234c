//! The distribution registry's notification envelope
//! (`application/vnd.docker.distribution.events.v1+json`) and the manifest
//! events easel acts on.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The media types of manifests; events about blobs carry others.
const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The body the registry posts: a batch of events.
#[derive(Debug, Default, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub events: Vec<Notification>,
}

/// One event as the registry sends it. Fields easel does not read are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Notification {
    #[serde(default)]
    pub id: String,
    /// RFC 3339, with nanoseconds, as the registry's clock read it.
    #[serde(default)]
    pub timestamp: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub target: Target,
}

/// The subject of an event: a manifest or blob in a repository.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    #[serde(default)]
    pub media_type: String,
    #[serde(default)]
    pub digest: String,
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub tag: String,
}

/// A manifest event easel acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestEvent {
    /// A manifest was pushed under a tag.
    Pushed {
        repository: String,
        tag: String,
        digest: String,
        /// When the registry sent the event, UTC milliseconds; `None` when it sent no valid time.
        timestamp_ms: Option<i64>,
    },
    /// A manifest was deleted, and with it every tag that pointed at it.
    Deleted { repository: String, digest: String },
}

impl ManifestEvent {
    /// Returns the repository the event is about, `namespace/name`.
    pub fn repository(&self) -> &str {
        match self {
            ManifestEvent::Pushed { repository, .. } | ManifestEvent::Deleted { repository, .. } => repository,
        }
    }
}

impl Notification {
    /// Returns the manifest event this notification reports, or `None` for
    /// pulls, blob events and pushes by digest alone.
    pub fn manifest_event(&self) -> Option<ManifestEvent> {
        let target = &self.target;
        if target.repository.is_empty() || target.digest.is_empty() {
            return None;
        }
        let is_manifest = MANIFEST_MEDIA_TYPES.contains(&target.media_type.as_str());
        match self.action.as_str() {
            "push" if is_manifest && !target.tag.is_empty() => Some(ManifestEvent::Pushed {
                repository: target.repository.clone(),
                tag: target.tag.clone(),
                digest: target.digest.clone(),
                timestamp_ms: parse_timestamp_ms(&self.timestamp),
            }),
            // Manifest delete events from distribution 2.8 carry no media type.
            "delete" if is_manifest || target.media_type.is_empty() => {
                Some(ManifestEvent::Deleted { repository: target.repository.clone(), digest: target.digest.clone() })
            }
            _ => None,
        }
    }
}

fn parse_timestamp_ms(timestamp: &str) -> Option<i64> {
    let time = OffsetDateTime::parse(timestamp, &Rfc3339).ok()?;
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Vec<Option<ManifestEvent>> {
        let envelope: Envelope = serde_json::from_str(json).unwrap();
        envelope.events.iter().map(Notification::manifest_event).collect()
    }

    #[test]
    fn tagged_manifest_push_is_an_event() {
        let events = parse(
            r#"{"events": [{"id": "1", "timestamp": "2026-03-09T14:44:26.402973972-08:00", "action": "push", "target": {
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 10,
                "digest": "sha256:abc", "repository": "team/app", "tag": "v1"}}]}"#,
        );
        let expected = ManifestEvent::Pushed {
            repository: "team/app".into(),
            tag: "v1".into(),
            digest: "sha256:abc".into(),
            timestamp_ms: Some(1_773_096_266_402),
        };
        assert_eq!(events, vec![Some(expected)]);
    }

    #[test]
    fn blob_pull_and_untagged_events_are_skipped() {
        let events = parse(
            r#"{"events": [
                {"action": "push", "target": {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:abc", "repository": "team/app"}},
                {"action": "pull", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:abc", "repository": "team/app", "tag": "v1"}},
                {"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": "sha256:abc", "repository": "team/app"}}
            ]}"#,
        );
        assert_eq!(events, vec![None, None, None]);
    }

    #[test]
    fn manifest_delete_is_an_event() {
        let events = parse(
            r#"{"events": [{"action": "delete", "target": {"digest": "sha256:abc", "repository": "team/app"}}]}"#,
        );
        let expected = ManifestEvent::Deleted { repository: "team/app".into(), digest: "sha256:abc".into() };
        assert_eq!(events, vec![Some(expected)]);
    }
}
