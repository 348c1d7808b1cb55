//! Retrieval, the second source of every repair context (DESIGN 3.1): the non-test source
//! files outside the folders the model called irrelevant, chunked as SWE-Swiss chunks them and
//! ranked against the issue by an embedding server when one is configured, by BM25 otherwise.

use serde::{Deserialize, Serialize};

use super::context::JobContext;
use super::error::JobError;
use crate::backend::{BackendConfig, BackendError, EmbeddingClient, EmbeddingConfig};
use crate::config::EmbeddingSettings;
use crate::engine::apply::FileSource;
use crate::engine::chunks::{file_chunks, Chunk, CHUNK_TOKENS};
use crate::engine::retrieve::{bm25_scores, cosine_scores, rank_files};
use crate::engine::snapshot::RepoSnapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetrievalMethod {
    Embeddings,
    Bm25,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetrievalRecord {
    pub method: RetrievalMethod,
    /// The files searched (after leaving out the irrelevant folders) and their chunks.
    pub files_searched: usize,
    pub chunks: usize,
    /// Best first: the files of the 100 best chunks.
    pub files: Vec<String>,
}

pub(super) async fn retrieve(
    ctx: &JobContext,
    files: Vec<String>,
) -> Result<RetrievalRecord, JobError> {
    let files_searched = files.len();
    let snapshot = ctx.snapshot.clone();
    let chunks = blocking(move || chunk_files(&snapshot, &files)).await;
    if let Some(embedding) = &ctx.settings.embedding {
        match embedded_ranking(ctx, embedding, &chunks).await {
            Ok(files) => {
                return Ok(RetrievalRecord {
                    method: RetrievalMethod::Embeddings,
                    files_searched,
                    chunks: chunks.len(),
                    files,
                })
            }
            Err(BackendError::Cancelled) => return Err(ctx.cancelled()),
            Err(e) => ctx.warn(format!(
                "failed to rank files with the embedding server ({e}); retrieval falls back to BM25 (check retrieval.embedding_url and retrieval.embedding_model)"
            )),
        }
    }
    let query = ctx.issue_text.clone();
    let (chunks, files) = blocking(move || {
        let files = rank_files(&chunks, &bm25_scores(&chunks, &query));
        (chunks, files)
    })
    .await;
    Ok(RetrievalRecord {
        method: RetrievalMethod::Bm25,
        files_searched,
        chunks: chunks.len(),
        files,
    })
}

fn chunk_files(snapshot: &RepoSnapshot, files: &[String]) -> Vec<Chunk> {
    files
        .iter()
        .filter_map(|path| snapshot.read(path).map(|content| (path, content)))
        .flat_map(|(path, content)| file_chunks(path, &content, CHUNK_TOKENS))
        .collect()
}

async fn embedded_ranking(
    ctx: &JobContext,
    embedding: &EmbeddingSettings,
    chunks: &[Chunk],
) -> Result<Vec<String>, BackendError> {
    let client = EmbeddingClient::new(EmbeddingConfig {
        base_url: embedding.url.clone(),
        model: embedding.model.clone(),
        api_key: ctx
            .settings
            .api_key
            .as_ref()
            .map(|key| key.expose().to_owned()),
        request_timeout: ctx.settings.request_timeout,
        max_retries: ctx.settings.max_retries,
        initial_backoff: BackendConfig::default().initial_backoff,
    })?;
    let cancel = ctx.cancel.token();
    let query = client
        .embed(std::slice::from_ref(&ctx.issue_text), cancel)
        .await?;
    let texts: Vec<String> = chunks.iter().map(|c| c.text.clone()).collect();
    let vectors = client.embed(&texts, cancel).await?;
    let query = query.into_iter().next().unwrap_or_default();
    Ok(rank_files(chunks, &cosine_scores(&query, &vectors)))
}

/// Chunking and BM25 over a large repository take a while: off the async threads, which also
/// serve the language server's requests.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
