//! Selection cost at SWE-Swiss scale: 40 samples (the default), 160, and 640 (the paper's largest
//! sweep), on synthetic keys shaped like real ones: a few competing fixes of 1–4 KB, each seen in
//! a handful of small variants, plus samples that produced no valid patch.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use swiss::engine::selection::{select, SelectionConfig, Verdict};
use swiss::engine::similarity::ratio;

/// Knuth's MMIX constants; deterministic input without a rand dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

const WORDS: &[&str] = &[
    "value",
    "self",
    "result",
    "index",
    "items",
    "config",
    "name",
    "parse",
    "handle",
    "len",
    "return",
    "if",
    "None",
    "raise",
    "ValueError",
    "append",
    "key",
    "data",
    "path",
    "format",
];

/// A unified-diff-like key of roughly `target` bytes.
fn base_patch(rng: &mut Lcg, target: usize) -> String {
    let mut out = String::from("diff --git a/pkg/module.py b/pkg/module.py\n@@ -10,7 +10,8 @@\n");
    while out.len() < target {
        let marker = [" ", " ", " ", "-", "+"][rng.next() % 5];
        out.push_str(marker);
        out.push_str("    ");
        for _ in 0..3 + rng.next() % 6 {
            out.push_str(WORDS[rng.next() % WORDS.len()]);
            out.push_str([" ", " = ", "(", ") ", ".", ", "][rng.next() % 6]);
        }
        out.push('\n');
    }
    out
}

/// The same fix written slightly differently: a few words swapped or a line added.
fn variant(base: &str, rng: &mut Lcg) -> String {
    let mut lines: Vec<String> = base.lines().map(str::to_owned).collect();
    for _ in 0..1 + rng.next() % 3 {
        let at = 2 + rng.next() % (lines.len() - 2);
        if rng.next() % 2 == 0 {
            lines.insert(
                at,
                format!("+    {} = None", WORDS[rng.next() % WORDS.len()]),
            );
        } else {
            lines[at].push_str(WORDS[rng.next() % WORDS.len()]);
        }
    }
    lines.join("\n")
}

/// `n` sample keys drawn from 4 fixes × up to 8 variants each, with about 12% empty samples and
/// the first fix the most popular.
fn sample_keys(n: usize) -> Vec<String> {
    let mut rng = Lcg(0x5EED);
    let fixes: Vec<Vec<String>> = [1024, 2048, 3072, 4096]
        .iter()
        .map(|&size| {
            let base = base_patch(&mut rng, size);
            let variants: Vec<String> = (0..7).map(|_| variant(&base, &mut rng)).collect();
            std::iter::once(base).chain(variants).collect()
        })
        .collect();
    (0..n)
        .map(|_| {
            let roll = rng.next() % 100;
            if roll < 12 {
                return String::new();
            }
            let fix = [0, 0, 0, 1, 1, 2, 3][rng.next() % 7];
            // Variants are rarer than the canonical form, as with real samples.
            let form = if rng.next() % 2 == 0 {
                0
            } else {
                rng.next() % 8
            };
            fixes[fix][form].clone()
        })
        .collect()
}

fn verdict(key: &str) -> Verdict {
    Verdict {
        regression_failures: Some((key.len() % 3) as u32),
        reproduction_passed: Some(key.len() % 2 == 0),
    }
}

// The key mix is printed next to the timings so the growth with N can be read against it.
#[allow(clippy::print_stderr)]
fn bench_select(c: &mut Criterion) {
    let mut group = c.benchmark_group("select");
    group.sample_size(20);
    for n in [40, 160, 640] {
        let keys = sample_keys(n);
        let mut unique: Vec<&String> = keys.iter().filter(|k| !k.is_empty()).collect();
        unique.sort();
        unique.dedup();
        let empty = keys.iter().filter(|k| k.is_empty()).count();
        eprintln!(
            "select/{n}: {} unique keys, {empty} empty samples",
            unique.len()
        );
        group.bench_with_input(BenchmarkId::from_parameter(n), &keys, |b, keys| {
            b.iter(|| select(black_box(keys), &verdict, &SelectionConfig::default()));
        });
    }
    group.finish();
}

/// The worst case for selection: every sample a different edit, so every pair of keys needs a
/// `ratio`. `select` spreads the pairs over the cores; the second bench is the same pairs on one
/// thread, as selection computed them before.
#[allow(clippy::print_stderr)]
fn bench_mostly_unique(c: &mut Criterion) {
    const N: usize = 160;
    let mut rng = Lcg(7);
    let bases: Vec<String> = [1024, 2048, 3072, 4096]
        .iter()
        .map(|&size| base_patch(&mut rng, size))
        .collect();
    let keys: Vec<String> = (0..N)
        .map(|i| variant(&bases[i % bases.len()], &mut rng))
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    eprintln!(
        "mostly_unique/{N}: {} unique keys, {} cores",
        unique.len(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    let mut group = c.benchmark_group("mostly_unique");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("select", N), |b| {
        b.iter(|| select(black_box(&keys), &verdict, &SelectionConfig::default()));
    });
    group.bench_function(BenchmarkId::new("pairs_one_thread", N), |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for (i, a) in unique.iter().enumerate() {
                for other in &unique[i + 1..] {
                    sum += ratio(black_box(a), black_box(other));
                }
            }
            sum
        });
    });
    group.finish();
}

fn bench_ratio(c: &mut Criterion) {
    let mut rng = Lcg(42);
    let a = base_patch(&mut rng, 4096);
    let b = variant(&a, &mut rng);
    let unrelated = base_patch(&mut rng, 4096);
    c.bench_function("ratio/4KB near copies", |bench| {
        bench.iter(|| ratio(black_box(&a), black_box(&b)));
    });
    c.bench_function("ratio/4KB unrelated", |bench| {
        bench.iter(|| ratio(black_box(&a), black_box(&unrelated)));
    });
}

criterion_group!(benches, bench_select, bench_mostly_unique, bench_ratio);
criterion_main!(benches);
