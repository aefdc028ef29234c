//! Verifying an SDK-HMAC-SHA256 signature as the server does per request:
//! the canonical request, the string to sign and the constant-time compare.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use easel::auth::signature::{
    canonical_request, sha256_hex, sign_request, string_to_sign, verify, Authorization, CanonicalInput, ClientRequest,
};

const ACCESS: &str = "QTWAOYTTINDUT2QVKYUC";
const SECRET: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
const PATH: &str = "/v1/be9c0000000000000000000000000000/images/group";
const QUERY: &str = "limit=200&name=pytorch-whisper&offset=0&workspace_id=0";

fn signature_benchmarks(c: &mut Criterion) {
    let now = time::OffsetDateTime::now_utc();
    let headers = [("host", "127.0.0.1:8080"), ("content-type", "application/json")];
    let request = ClientRequest { method: "GET", path: PATH, query: Some(QUERY), headers: &headers, body: b"" };
    let (sdk_date, header) = sign_request(ACCESS, SECRET, &request, now);

    c.bench_function("signature/verify_get_with_query", |b| {
        b.iter(|| {
            let authorization = Authorization::parse(black_box(&header)).expect("the header parses");
            let signed: Vec<(String, String)> = authorization
                .signed_headers
                .iter()
                .map(|name| {
                    let value = match name.as_str() {
                        "x-sdk-date" => sdk_date.as_str(),
                        other => headers.iter().find(|(n, _)| *n == other).map(|(_, v)| *v).unwrap_or_default(),
                    };
                    (name.clone(), value.to_owned())
                })
                .collect();
            let canonical = canonical_request(&CanonicalInput {
                method: "GET",
                path: PATH,
                query: Some(QUERY),
                headers: &signed,
                signed_headers_raw: &authorization.signed_headers_raw,
                payload_hash: &sha256_hex(b""),
            });
            assert!(verify(SECRET, &string_to_sign(&sdk_date, &canonical), &authorization.signature));
        })
    });

    c.bench_function("signature/sign_register_body", |b| {
        let body = br#"{"swr_path":"localhost:5000/vision/pytorch-resnet-cuda12.1-00042:2.1.0-20240105"}"#;
        let request = ClientRequest { method: "POST", path: PATH, query: None, headers: &headers, body };
        b.iter(|| sign_request(ACCESS, SECRET, black_box(&request), now))
    });
}

criterion_group!(benches, signature_benchmarks);
criterion_main!(benches);
