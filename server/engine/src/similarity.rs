//! String similarity between normalized patch keys (DESIGN 3.5, step 1).

use rapidfuzz::distance::indel;

/// python-Levenshtein's `ratio`: `1 - indel(a, b) / (len a + len b)`, lengths in Unicode scalar
/// values; equivalently `2·LCS / (len a + len b)`. Two empty strings are identical, so 1.0.
///
/// The value is computed as `1 - d / s`, the way python-Levenshtein (backed by rapidfuzz) does,
/// rather than `(s - d) / s`: the two can differ in the last bit, and a reranking that is meant to
/// reproduce SWE-Swiss's choices should not flip a tie over one ulp.
pub fn ratio(a: &str, b: &str) -> f64 {
    // Bytes and scalar values coincide on ASCII, and the byte path skips the hashed lookups that
    // rapidfuzz needs for wide characters; patch keys are nearly always ASCII.
    let (len_sum, dist) = if a.is_ascii() && b.is_ascii() {
        (a.len() + b.len(), indel::distance(a.bytes(), b.bytes()))
    } else {
        (
            a.chars().count() + b.chars().count(),
            indel::distance(a.chars(), b.chars()),
        )
    };
    if len_sum == 0 {
        return 1.0;
    }
    1.0 - dist as f64 / len_sum as f64
}

#[cfg(test)]
mod tests {
    use super::ratio;

    /// `2·LCS/(len a + len b)` from an optimal character diff, as an independent oracle.
    fn lcs_ratio(a: &str, b: &str) -> f64 {
        let diff = similar::TextDiff::configure()
            .algorithm(similar::Algorithm::Myers)
            .diff_chars(a, b);
        let lcs: usize = diff
            .ops()
            .iter()
            .map(|op| match *op {
                similar::DiffOp::Equal { len, .. } => len,
                _ => 0,
            })
            .sum();
        let total = a.chars().count() + b.chars().count();
        if total == 0 {
            1.0
        } else {
            1.0 - (total - 2 * lcs) as f64 / total as f64
        }
    }

    fn assert_close(got: f64, want: f64) {
        assert!((got - want).abs() < 1e-12, "got {got}, want {want}");
    }

    #[test]
    fn known_values() {
        // LCS("kitten", "sitting") = "ittn", 4 of 13 characters: 8/13.
        assert_close(ratio("kitten", "sitting"), 8.0 / 13.0);
        // python-Levenshtein documents ratio("Hello world!", "Holly grail!") = 0.5833…
        assert_close(ratio("Hello world!", "Holly grail!"), 14.0 / 24.0);
        assert_close(ratio("abc", "abc"), 1.0);
        assert_close(ratio("abc", "xyz"), 0.0);
        assert_eq!(ratio("lewenstein", "levenshtein"), 1.0 - 3.0 / 21.0);
    }

    #[test]
    fn empty_strings() {
        assert_eq!(ratio("", ""), 1.0);
        assert_eq!(ratio("", "abc"), 0.0);
        assert_eq!(ratio("abc", ""), 0.0);
    }

    #[test]
    fn counts_scalar_values_not_bytes() {
        // "é" is two bytes but one scalar value: LCS("café", "cafe") = 3 of 8.
        assert_close(ratio("café", "cafe"), 6.0 / 8.0);
        assert_close(ratio("日本語", "日本"), 4.0 / 5.0);
        assert_eq!(ratio("ü", "ü"), 1.0);
        // A mixed pair takes the scalar path on both sides.
        assert_close(ratio("naïve", "naive"), 8.0 / 10.0);
    }

    #[test]
    fn symmetric() {
        let pairs = [("kitten", "sitting"), ("", "x"), ("größe", "grosse")];
        for (a, b) in pairs {
            assert_eq!(ratio(a, b), ratio(b, a), "{a:?} {b:?}");
        }
    }

    #[test]
    fn agrees_with_an_optimal_char_diff() {
        // A small LCG keeps the strings reproducible without a rand dependency.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let alphabet: Vec<char> = "abcde fgh\n(){}=+-_éλ".chars().collect();
        let mut random_string = |len: usize| -> String {
            (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect()
        };
        for round in 0..40 {
            let a = random_string(round * 7 % 150);
            let b = if round % 3 == 0 {
                // A near copy, the case that dominates real patch keys.
                let mut b: Vec<char> = a.chars().collect();
                if !b.is_empty() {
                    let at = round % b.len();
                    b.remove(at);
                    b.insert(at / 2, 'Z');
                }
                b.into_iter().collect()
            } else {
                random_string(round * 11 % 170)
            };
            assert_close(ratio(&a, &b), lcs_ratio(&a, &b));
        }
        let long_a = "def f(x):\n    return x * 2\n".repeat(60);
        let long_b = long_a.replace("x * 2", "x * 3");
        assert_close(ratio(&long_a, &long_b), lcs_ratio(&long_a, &long_b));
    }
}
