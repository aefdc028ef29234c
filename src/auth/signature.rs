//! The `SDK-HMAC-SHA256` request signature of the Huawei Cloud SDKs: the
//! canonical request, the string to sign and the signature itself. The server
//! verifies with these functions and clients sign with them, so both sides
//! always agree.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use time::{macros::format_description, OffsetDateTime, PrimitiveDateTime};

/// The algorithm name at the start of the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// The header that carries the signing time.
pub const DATE_HEADER: &str = "x-sdk-date";

/// The header by which a client declares an unsigned body.
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";

/// The value of [`CONTENT_SHA256_HEADER`] that exempts the body from signing.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Characters left bare when encoding a path segment or query component.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The three parts of an `Authorization: SDK-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access: String,
    /// The signed header names, lower case, in the order they were sent.
    pub signed_headers: Vec<String>,
    /// The `SignedHeaders` list exactly as sent.
    pub signed_headers_raw: String,
    pub signature: String,
}

impl Authorization {
    /// Parses `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX`.
    /// Returns a sentence saying what is wrong when the header is malformed.
    pub fn parse(header: &str) -> Result<Self, String> {
        let rest = header
            .strip_prefix(ALGORITHM)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| format!("Authorization must start with '{ALGORITHM} '"))?;

        let mut access = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| "Authorization parts must be key=value".to_owned())?;
            match key {
                "Access" => access = Some(value.to_owned()),
                "SignedHeaders" => signed_headers = Some(value.to_owned()),
                "Signature" => signature = Some(value.to_owned()),
                _ => return Err(format!("Authorization has an unknown part '{key}'")),
            }
        }

        let access = access.filter(|a| !a.is_empty()).ok_or("Authorization has no Access part")?;
        let signed_headers_raw = signed_headers.filter(|h| !h.is_empty()).ok_or("Authorization has no SignedHeaders part")?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or("Authorization has no Signature part")?;
        Ok(Authorization {
            access,
            signed_headers: signed_headers_raw.split(';').map(str::to_ascii_lowercase).collect(),
            signed_headers_raw,
            signature,
        })
    }

    /// Formats the header value.
    pub fn to_header_value(&self) -> String {
        format!(
            "{ALGORITHM} Access={}, SignedHeaders={}, Signature={}",
            self.access, self.signed_headers_raw, self.signature
        )
    }
}

/// The parts of a request that the signature covers.
pub struct CanonicalInput<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The raw query string without `?`, as received.
    pub query: Option<&'a str>,
    /// The signed headers as `(lower-case name, value)`, in `SignedHeaders` order.
    pub headers: &'a [(String, String)],
    pub signed_headers_raw: &'a str,
    /// The hex SHA-256 of the body, or [`UNSIGNED_PAYLOAD`].
    pub payload_hash: &'a str,
}

/// Builds the six-line canonical request.
pub fn canonical_request(input: &CanonicalInput<'_>) -> String {
    let mut canonical = String::with_capacity(256);
    canonical.push_str(&input.method.to_ascii_uppercase());
    canonical.push('\n');
    canonical.push_str(&canonical_path(input.path));
    canonical.push('\n');
    canonical.push_str(&canonical_query(input.query.unwrap_or("")));
    canonical.push('\n');
    for (name, value) in input.headers {
        canonical.push_str(name);
        canonical.push(':');
        canonical.push_str(value.trim());
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(input.signed_headers_raw);
    canonical.push('\n');
    canonical.push_str(input.payload_hash);
    canonical
}

/// Percent-decodes each path segment and re-encodes it, then appends a `/`.
pub fn canonical_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 1);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.extend(percent_encode(&decode(segment), UNRESERVED));
    }
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Decodes every `key=value` pair, sorts by key then value and re-encodes.
/// A parameter without `=` counts as `key=`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect();
    pairs.sort();

    let encoded: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key, UNRESERVED), percent_encode(value, UNRESERVED)))
        .collect();
    encoded.join("&")
}

fn decode(component: &str) -> Vec<u8> {
    percent_decode_str(component).collect()
}

/// Returns the lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Builds the string to sign from the `X-Sdk-Date` value and the canonical request.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{sdk_date}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Computes the hex HMAC-SHA256 signature of `string_to_sign` keyed with the secret key.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a presented signature against the one computed with `secret`, in
/// constant time.
pub fn verify(secret: &str, string_to_sign: &str, presented_hex: &str) -> bool {
    let Ok(presented) = hex::decode(presented_hex) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&presented).is_ok()
}

/// Formats a time as the `X-Sdk-Date` value, `YYYYMMDDTHHMMSSZ`.
pub fn format_sdk_date(time: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    time.format(format).expect("a UTC time always formats")
}

/// Parses an `X-Sdk-Date` value.
pub fn parse_sdk_date(value: &str) -> Option<OffsetDateTime> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, format).ok().map(PrimitiveDateTime::assume_utc)
}

/// A request about to be signed by a client.
pub struct ClientRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// Headers to sign besides `X-Sdk-Date`, which is added.
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Signs a request as the SDKs do and returns the `(X-Sdk-Date, Authorization)`
/// header values to send with it.
pub fn sign_request(access: &str, secret: &str, request: &ClientRequest<'_>, now: OffsetDateTime) -> (String, String) {
    let sdk_date = format_sdk_date(now);

    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .chain(std::iter::once((DATE_HEADER.to_owned(), sdk_date.clone())))
        .collect();
    headers.sort();
    let signed_headers_raw = headers.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(";");

    let canonical = canonical_request(&CanonicalInput {
        method: request.method,
        path: request.path,
        query: request.query,
        headers: &headers,
        signed_headers_raw: &signed_headers_raw,
        payload_hash: &sha256_hex(request.body),
    });
    let authorization = Authorization {
        access: access.to_owned(),
        signed_headers: headers.iter().map(|(name, _)| name.clone()).collect(),
        signature: signature(secret, &string_to_sign(&sdk_date, &canonical)),
        signed_headers_raw,
    };
    (sdk_date, authorization.to_header_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_reencoded_and_end_in_slash() {
        assert_eq!(canonical_path("/v1/abc/images"), "/v1/abc/images/");
        assert_eq!(canonical_path("/v1/a%7Eb/c d"), "/v1/a~b/c%20d/");
        assert_eq!(canonical_path("/v1/"), "/v1/");
    }

    #[test]
    fn query_is_sorted_decoded_and_reencoded() {
        assert_eq!(canonical_query("offset=0&limit=10"), "limit=10&offset=0");
        assert_eq!(canonical_query("name=a%5fb&flag"), "flag=&name=a_b");
        assert_eq!(canonical_query("k=b&k=a"), "k=a&k=b");
        assert_eq!(canonical_query("name=a%2Fb"), "name=a%2Fb");
        assert_eq!(canonical_query(""), "");
    }

    #[test]
    fn authorization_header_round_trips() {
        let header = "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=abcd";
        let parsed = Authorization::parse(header).unwrap();
        assert_eq!(parsed.access, "AK1");
        assert_eq!(parsed.signed_headers, vec!["host", "x-sdk-date"]);
        assert_eq!(parsed.to_header_value(), header);
        assert!(Authorization::parse("Basic abc").is_err());
        assert!(Authorization::parse("SDK-HMAC-SHA256 Access=AK1, Signature=ab").is_err());
    }

    #[test]
    fn sdk_date_round_trips() {
        let time = parse_sdk_date("20261204T193000Z").unwrap();
        assert_eq!(format_sdk_date(time), "20261204T193000Z");
        assert!(parse_sdk_date("2026-12-04T19:30:00Z").is_none());
    }

    #[test]
    fn signature_verifies_and_rejects_changes() {
        let canonical = "GET\n/\n\nhost:x\n\nhost\n";
        let to_sign = string_to_sign("20261204T193000Z", canonical);
        let sig = signature("secret", &to_sign);
        assert!(verify("secret", &to_sign, &sig));
        assert!(!verify("other", &to_sign, &sig));
        let changed = string_to_sign("20261204T193000Z", &canonical.replace("GET", "PUT"));
        assert!(!verify("secret", &changed, &sig));
        assert!(!verify("secret", &to_sign, "zz"));
    }
}
