//! Ranking the chunks of the repository against the issue, and the files by their chunks, as
//! SWE-Swiss's retrieval does (`fl/Index.py`): the 100 best chunks, and the files in the order
//! their first chunk appears among them. Chunk scores come from an embedding model (cosine
//! similarity, computed here from the vectors the caller fetched) or, without one, from BM25.

use std::collections::HashSet;

use bm25::{EmbedderBuilder, Scorer, Tokenizer};

use crate::chunks::Chunk;

/// The reference's `similarity_top_k`.
pub const TOP_CHUNKS: usize = 100;

/// Files, best first, from chunk scores (`(chunk index, score)`, any order): the best
/// [`TOP_CHUNKS`] chunks, ties to the earlier chunk, and each file where its first chunk is.
pub fn rank_files(chunks: &[Chunk], scores: &[(usize, f32)]) -> Vec<String> {
    let mut ranked: Vec<(usize, f32)> = scores
        .iter()
        .copied()
        .filter(|(_, score)| !score.is_nan())
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut seen = HashSet::new();
    ranked
        .into_iter()
        .take(TOP_CHUNKS)
        .filter_map(|(chunk, _)| chunks.get(chunk))
        .filter(|chunk| seen.insert(chunk.path.as_str()))
        .map(|chunk| chunk.path.clone())
        .collect()
}

/// Cosine similarity of the query to each chunk's vector, as llama_index's default vector store
/// scores. A zero vector scores 0.
pub fn cosine_scores(query: &[f32], chunks: &[Vec<f32>]) -> Vec<(usize, f32)> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let query_norm = norm(query);
    chunks
        .iter()
        .enumerate()
        .map(|(i, vector)| {
            let dot: f32 = query.iter().zip(vector).map(|(a, b)| a * b).sum();
            let denominator = query_norm * norm(vector);
            (
                i,
                if denominator > 0.0 {
                    dot / denominator
                } else {
                    0.0
                },
            )
        })
        .collect()
}

/// BM25 scores of the chunks that share a term with the query; the others score nothing and
/// are not listed. Each distinct query term counts once, so a word the issue repeats does not
/// outweigh the identifiers it names once.
pub fn bm25_scores(chunks: &[Chunk], query: &str) -> Vec<(usize, f32)> {
    if chunks.is_empty() {
        return Vec::new();
    }
    // Tokenized once, here: the crate's own builder tokenizes every document twice (to fit the
    // average length, then to embed it), and splitting identifiers is the costly part.
    let mut total_terms = 0;
    let documents: Vec<String> = chunks
        .iter()
        .map(|chunk| {
            let terms = CodeTokenizer.tokenize(&chunk.text);
            total_terms += terms.len();
            terms.join(" ")
        })
        .collect();
    let avgdl = total_terms as f32 / documents.len() as f32;
    let embedder = EmbedderBuilder::<u32, Terms>::with_avgdl(avgdl).build();
    let mut scorer = Scorer::<usize, u32>::new();
    for (i, document) in documents.iter().enumerate() {
        scorer.upsert(&i, embedder.embed(document));
    }
    let mut terms = CodeTokenizer.tokenize(query);
    let mut seen = HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
    scorer
        .matches(&embedder.embed(&terms.join(" ")))
        .into_iter()
        .map(|scored| (scored.id, scored.score))
        .collect()
}

/// Text [`CodeTokenizer`] already split, terms separated by spaces.
#[derive(Debug, Clone, Copy, Default)]
struct Terms;

impl Tokenizer for Terms {
    fn tokenize(&self, text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }
}

/// Splits code and prose into lower-case terms: identifiers whole and in their parts
/// (`divide_by_zero` gives `divide_by_zero`, `divide`, `by`, `zero`; `HttpRequest` gives
/// `httprequest`, `http`, `request`), numbers and one-letter words left out. The `bm25` crate's
/// own tokenizer stems and drops English stop words, and keeps `calc.ops.divide` as one word:
/// made for prose, not for matching identifiers.
#[derive(Debug, Clone, Copy, Default)]
pub struct CodeTokenizer;

impl Tokenizer for CodeTokenizer {
    fn tokenize(&self, text: &str) -> Vec<String> {
        let mut terms = Vec::new();
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            // Most words of code and prose are one lower-case part: no splitting to do.
            if !word.contains('_') && !word.chars().any(char::is_uppercase) {
                if keep(word) {
                    terms.push(word.to_owned());
                }
                continue;
            }
            let parts = identifier_parts(word);
            let whole = word.trim_matches('_').to_lowercase();
            if parts.len() > 1 && keep(&whole) {
                terms.push(whole);
            }
            terms.extend(parts.into_iter().filter(|p| keep(p)));
        }
        terms
    }
}

fn keep(term: &str) -> bool {
    term.chars().count() > 1 && !term.chars().all(|c| c.is_ascii_digit())
}

/// `snake_case` and `camelCase` parts, lower-cased.
fn identifier_parts(word: &str) -> Vec<String> {
    let mut parts = Vec::new();
    for piece in word.split('_').filter(|p| !p.is_empty()) {
        let chars: Vec<char> = piece.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let lower_to_upper = chars[i - 1].is_lowercase() && chars[i].is_uppercase();
            // `HTTPRequest`: the last capital of a run starts the next part.
            let run_end = chars[i - 1].is_uppercase()
                && chars[i].is_uppercase()
                && chars.get(i + 1).is_some_and(|c| c.is_lowercase());
            if lower_to_upper || run_end {
                parts.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        parts.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::{file_chunks, CHUNK_TOKENS};

    fn chunk(path: &str) -> Chunk {
        Chunk {
            path: path.to_owned(),
            text: String::new(),
        }
    }

    #[test]
    fn files_come_in_the_order_of_their_best_chunk() {
        let chunks = [chunk("a.py"), chunk("b.py"), chunk("a.py"), chunk("c.py")];
        let scores = [(0, 0.2), (1, 0.5), (2, 0.9), (3, 0.5)];
        assert_eq!(rank_files(&chunks, &scores), ["a.py", "b.py", "c.py"]);
        assert!(rank_files(&chunks, &[]).is_empty());
    }

    #[test]
    fn only_the_best_hundred_chunks_count() {
        let mut chunks: Vec<Chunk> = (0..TOP_CHUNKS).map(|_| chunk("big.py")).collect();
        chunks.push(chunk("late.py"));
        let scores: Vec<(usize, f32)> = (0..chunks.len())
            .map(|i| (i, 1.0 - i as f32 / 1000.0))
            .collect();
        assert_eq!(rank_files(&chunks, &scores), ["big.py"]);
    }

    #[test]
    fn cosine_is_scale_free() {
        let scores = cosine_scores(
            &[1.0, 0.0],
            &[vec![2.0, 0.0], vec![0.0, 3.0], vec![0.0, 0.0]],
        );
        assert_eq!(scores, [(0, 1.0), (1, 0.0), (2, 0.0)]);
    }

    #[test]
    fn tokenizer_splits_identifiers() {
        assert_eq!(
            CodeTokenizer.tokenize("calc.ops.divide_by_zero(HTTPRequest, x) 42"),
            [
                "calc",
                "ops",
                "divide_by_zero",
                "divide",
                "by",
                "zero",
                "httprequest",
                "http",
                "request"
            ]
        );
    }

    #[test]
    fn bm25_ranks_the_file_holding_the_issue_identifiers_first() {
        // The calc fixture's sources, and a file that shares no term with the issue.
        let files: Vec<(&str, &str)> = swiss_testkit::calc::FILES
            .iter()
            .copied()
            .filter(|(path, _)| path.ends_with(".py") && !path.starts_with("tests/"))
            .chain([("other/util.py", "def helper():\n    pass\n")])
            .collect();
        let chunks: Vec<Chunk> = files
            .iter()
            .flat_map(|(path, content)| file_chunks(path, content, CHUNK_TOKENS))
            .collect();
        let issue = swiss_testkit::calc::ISSUE;
        let ranked = rank_files(&chunks, &bm25_scores(&chunks, issue));
        assert_eq!(ranked[0], "calc/ops.py", "{ranked:?}");
        assert!(
            !ranked.contains(&"other/util.py".to_owned()),
            "a file sharing no term with the issue is not retrieved: {ranked:?}"
        );
        assert!(bm25_scores(&[], issue).is_empty());
    }
}
