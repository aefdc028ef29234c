//! Parsing image references (`swr_path`) as every register call does.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use easel::catalogue::reference::Reference;

fn reference_benchmarks(c: &mut Criterion) {
    let cases = [
        ("short", "vision/resnet:1.0"),
        ("host_and_port", "localhost:5000/ml-platform/pytorch-llama-cuda12.1-00042:2.1.0-20240105"),
        ("nested_with_digest", "swr.example.com/team/ml/pytorch/train:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        ("invalid_upper_case", "Vision/ResNet:1.0"),
    ];
    for (name, input) in cases {
        c.bench_function(&format!("reference/parse_{name}"), |b| {
            b.iter(|| Reference::parse(black_box(input), "localhost:5000"))
        });
    }
}

criterion_group!(benches, reference_benchmarks);
criterion_main!(benches);
