//! Image references (`swr_path`): `[host[:port]/]namespace/name:tag[@sha256:hex]`,
//! with path components following the OCI distribution grammar.

use std::fmt;

use crate::catalogue::fields::truncate_for_message;
use crate::error::{Error, Result};

const FIELD: &str = "swr_path";
const MAX_NAMESPACE_CHARS: usize = 64;
const MAX_NAME_CHARS: usize = 512;
const MAX_TAG_CHARS: usize = 128;

/// A parsed image reference. The host is always present: a reference
/// without one gets the configured default registry host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub host: String,
    pub namespace: String,
    pub name: String,
    pub tag: String,
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `input`, filling in `default_host` when the reference names no host.
    pub fn parse(input: &str, default_host: &str) -> Result<Self> {
        let invalid = |problem: &str| Error::field(FIELD, format!("'{}' {problem}", truncate_for_message(input)));

        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => (rest, Some(parse_digest(digest).map_err(|p| invalid(&p))?)),
            None => (input, None),
        };

        let (host, path_and_tag) = match rest.split_once('/') {
            Some((first, remainder)) if is_host(first) => {
                validate_host(first).map_err(|p| invalid(&p))?;
                (first.to_ascii_lowercase(), remainder)
            }
            _ => (default_host.to_owned(), rest),
        };

        let last_slash = path_and_tag.rfind('/');
        let last_segment_start = last_slash.map_or(0, |i| i + 1);
        let (path, tag) = match path_and_tag[last_segment_start..].find(':') {
            Some(colon) => {
                let colon = last_segment_start + colon;
                (&path_and_tag[..colon], &path_and_tag[colon + 1..])
            }
            None => return Err(invalid("has no tag; expected namespace/name:tag")),
        };
        validate_tag(tag).map_err(|p| invalid(&p))?;

        let Some((namespace, name)) = path.split_once('/') else {
            return Err(invalid("has no namespace; expected namespace/name:tag"));
        };
        validate_component("namespace", namespace).map_err(|p| invalid(&p))?;
        for component in name.split('/') {
            validate_component("name", component).map_err(|p| invalid(&p))?;
        }
        if namespace.chars().count() > MAX_NAMESPACE_CHARS {
            return Err(invalid(&format!("has a namespace longer than {MAX_NAMESPACE_CHARS} characters")));
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(&format!("has a name longer than {MAX_NAME_CHARS} characters")));
        }

        Ok(Reference {
            host,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            tag: tag.to_owned(),
            digest,
        })
    }

    /// Returns the repository path inside the registry, `namespace/name`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}:{}", self.host, self.namespace, self.name, self.tag)?;
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Tells whether a first segment names a host: it does when it contains `.` or `:` or is `localhost`,
/// as the distribution reference grammar decides it.
fn is_host(segment: &str) -> bool {
    segment.contains('.') || segment.contains(':') || segment == "localhost"
}

fn validate_host(host: &str) -> std::result::Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !name_ok {
        return Err(format!("has an invalid registry host '{}'", truncate_for_message(host)));
    }
    if let Some(port) = port {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("has an invalid registry port '{}'", truncate_for_message(port)));
        }
    }
    Ok(())
}

/// Checks one path component against the OCI distribution grammar: lower-case
/// alphanumerics separated by `.`, `_`, `__` or runs of `-`.
fn validate_component(part: &str, component: &str) -> std::result::Result<(), String> {
    let bytes = component.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut valid = !bytes.is_empty();

    while valid && i < bytes.len() {
        // A run of alphanumerics, then either the end or one separator.
        let run_start = i;
        while i < bytes.len() && is_alnum(bytes[i]) {
            i += 1;
        }
        if i == run_start {
            valid = false;
            break;
        }
        if i == bytes.len() {
            break;
        }
        let separator_start = i;
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < bytes.len() && bytes[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
            }
            _ => valid = false,
        }
        // A separator must be followed by another alphanumeric run.
        if valid && (i == bytes.len() || i == separator_start) {
            valid = false;
        }
    }

    if valid {
        Ok(())
    } else {
        Err(format!(
            "has an invalid {part} component '{}'; components are lower-case letters and digits separated by '.', '_', '__' or '-'",
            truncate_for_message(component)
        ))
    }
}

fn validate_tag(tag: &str) -> std::result::Result<(), String> {
    let bytes = tag.as_bytes();
    let first_ok = bytes.first().is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = bytes.iter().skip(1).all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if first_ok && rest_ok && bytes.len() <= MAX_TAG_CHARS {
        Ok(())
    } else {
        Err(format!(
            "has an invalid tag '{}'; a tag is 1 to {MAX_TAG_CHARS} of [A-Za-z0-9._-] and does not start with '.' or '-'",
            truncate_for_message(tag)
        ))
    }
}

fn parse_digest(digest: &str) -> std::result::Result<String, String> {
    let hex = digest.strip_prefix("sha256:");
    match hex {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) => {
            Ok(digest.to_owned())
        }
        _ => Err(format!(
            "has an invalid digest '{}'; expected sha256: and 64 lower-case hexadecimal characters",
            truncate_for_message(digest)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT_HOST: &str = "localhost:5000";

    fn parse(input: &str) -> Result<Reference> {
        Reference::parse(input, DEFAULT_HOST)
    }

    #[test]
    fn reference_without_host_gets_default_host() {
        let reference = parse("atelier/pytorch_1_8:pytorch_1.8.0-cuda_10.2").unwrap();
        assert_eq!(reference.host, DEFAULT_HOST);
        assert_eq!(reference.namespace, "atelier");
        assert_eq!(reference.name, "pytorch_1_8");
        assert_eq!(reference.tag, "pytorch_1.8.0-cuda_10.2");
        assert_eq!(reference.to_string(), "localhost:5000/atelier/pytorch_1_8:pytorch_1.8.0-cuda_10.2");
    }

    #[test]
    fn first_segment_with_dot_colon_or_localhost_is_a_host() {
        assert_eq!(parse("registry.example.com/ns/img:v1").unwrap().host, "registry.example.com");
        assert_eq!(parse("localhost/ns/img:v1").unwrap().host, "localhost");
        assert_eq!(parse("127.0.0.1:5000/ns/img:v1").unwrap().host, "127.0.0.1:5000");
    }

    #[test]
    fn port_is_not_a_tag() {
        let err = parse("localhost:5000/ns/img").unwrap_err().to_string();
        assert!(err.contains("has no tag"), "{err}");
    }

    #[test]
    fn nested_repository_splits_namespace_from_name() {
        let reference = parse("team/ml/pytorch:2.1").unwrap();
        assert_eq!(reference.namespace, "team");
        assert_eq!(reference.name, "ml/pytorch");
    }

    #[test]
    fn digest_after_tag_is_kept() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let reference = parse(&format!("ns/img:v1@{digest}")).unwrap();
        assert_eq!(reference.digest.as_deref(), Some(digest.as_str()));
        assert!(parse("ns/img:v1@sha256:abc").is_err());
    }

    #[test]
    fn components_follow_distribution_grammar() {
        for good in ["a/b:t", "ab/c__d.e:t", "a-b---c/d_e:t", "a1/b2.c3:t"] {
            assert!(parse(good).is_ok(), "{good}");
        }
        for bad in ["A/b:t", "a/-b:t", "a/b-:t", "a/b___c:t", "a/b..c:t", "a//b:t", "/a/b:t", "a/b/:t", "ab:t"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_grammar_is_enforced() {
        assert!(parse("ns/img:_ok.Tag-1").is_ok());
        assert!(parse("ns/img:.bad").is_err());
        assert!(parse("ns/img:-bad").is_err());
        assert!(parse(&format!("ns/img:{}", "t".repeat(128))).is_ok());
        assert!(parse(&format!("ns/img:{}", "t".repeat(129))).is_err());
        assert!(parse("ns/img:").is_err());
    }

    #[test]
    fn namespace_and_name_lengths_are_limited() {
        assert!(parse(&format!("{}/img:t", "n".repeat(64))).is_ok());
        assert!(parse(&format!("{}/img:t", "n".repeat(65))).is_err());
        assert!(parse(&format!("ns/{}:t", "i".repeat(512))).is_ok());
        assert!(parse(&format!("ns/{}:t", "i".repeat(513))).is_err());
    }

    #[test]
    fn error_names_the_field_and_value() {
        let err = parse("ns/IMG:t").unwrap_err().to_string();
        assert!(err.starts_with("swr_path:"), "{err}");
        assert!(err.contains("invalid name component 'IMG'"), "{err}");

        let err = parse("NS/img:t").unwrap_err().to_string();
        assert!(err.contains("invalid namespace component 'NS'"), "{err}");
    }
}
