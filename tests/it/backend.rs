//! The backend client against the scripted OpenAI-compatible server.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use swiss::backend::{
    BackendClient, BackendConfig, BackendError, ChatMessage, Sample, SamplingParams, Usage,
};
use swiss_testkit::{Fault, PromptKind, Script, ScriptedBackend};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const MAX_RETRIES: u32 = 3;

fn config(base_urls: Vec<String>) -> BackendConfig {
    BackendConfig {
        base_urls,
        model: "SWE-Swiss-32B".to_owned(),
        api_key: None,
        request_timeout: Duration::from_secs(10),
        max_retries: MAX_RETRIES,
        initial_backoff: Duration::from_millis(10),
        stream: true,
        ..BackendConfig::default()
    }
}

fn client(backend: &ScriptedBackend) -> BackendClient {
    BackendClient::new(config(vec![backend.base_url()])).unwrap()
}

fn repair_prompt() -> Vec<ChatMessage> {
    vec![
        ChatMessage::system("You are a careful engineer."),
        ChatMessage::user("Fix the issue. Answer with SEARCH/REPLACE edits."),
    ]
}

fn patches(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("patch number {i}")).collect()
}

fn repair_script(count: usize) -> Script {
    Script::new().answer(PromptKind::Repair, patches(count))
}

async fn sample_with(
    client: &BackendClient,
    n: usize,
    params: &SamplingParams,
    cancel: &CancellationToken,
) -> (Result<Usage, BackendError>, Vec<Sample>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let result = client.sample(&repair_prompt(), n, params, tx, cancel).await;
    let mut samples = Vec::new();
    while let Ok(sample) = rx.try_recv() {
        samples.push(sample);
    }
    (result, samples)
}

async fn sample(client: &BackendClient, n: usize) -> (Result<Usage, BackendError>, Vec<Sample>) {
    sample_with(
        client,
        n,
        &SamplingParams::default(),
        &CancellationToken::new(),
    )
    .await
}

fn texts(samples: &[Sample]) -> BTreeSet<String> {
    samples.iter().map(|s| s.text.clone()).collect()
}

fn indices(samples: &[Sample]) -> BTreeSet<usize> {
    samples.iter().map(|s| s.index).collect()
}

/// A URL where nothing listens: bound once to get a free port, then released.
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn asks_for_all_n_in_one_request_streamed() {
    asks_for_all_n_in_one_request(true).await;
}

#[tokio::test]
async fn asks_for_all_n_in_one_request_as_one_body() {
    asks_for_all_n_in_one_request(false).await;
}

async fn asks_for_all_n_in_one_request(stream: bool) {
    let backend = ScriptedBackend::start(repair_script(6)).await;
    let params = SamplingParams {
        temperature: 0.6,
        top_p: 0.95,
        max_tokens: Some(256),
    };
    let client = BackendClient::new(BackendConfig {
        stream,
        ..config(vec![backend.base_url()])
    })
    .unwrap();
    let (result, samples) = sample_with(&client, 4, &params, &CancellationToken::new()).await;

    let usage = result.unwrap();
    let requests = backend.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.kind, PromptKind::Repair);
    assert_eq!(request.n, Some(4));
    assert_eq!(request.model.as_deref(), Some("SWE-Swiss-32B"));
    assert_eq!(request.temperature, Some(0.6));
    assert_eq!(request.top_p, Some(0.95));
    assert_eq!(request.max_tokens, Some(256));
    assert_eq!(request.body["stream"], stream);
    if stream {
        assert_eq!(request.body["stream_options"]["include_usage"], true);
    } else {
        assert_eq!(request.body.get("stream_options"), None);
    }
    assert_eq!(request.authorization, None);
    let sent: Vec<_> = request
        .messages
        .iter()
        .map(|m| (m.role.as_str(), m.content.as_str()))
        .collect();
    let expected: Vec<_> = repair_prompt()
        .into_iter()
        .map(|m| (m.role, m.content))
        .collect();
    assert_eq!(
        sent,
        expected
            .iter()
            .map(|(r, c)| (r.as_str(), c.as_str()))
            .collect::<Vec<_>>()
    );

    assert_eq!(samples.len(), 4);
    assert_eq!(indices(&samples), (0..4).collect());
    assert_eq!(texts(&samples), patches(4).into_iter().collect());
    assert!(samples
        .iter()
        .all(|s| s.finish_reason.as_deref() == Some("stop")));

    let prompt_chars: usize = repair_prompt()
        .iter()
        .map(|m| m.content.len())
        .sum::<usize>()
        + 1;
    assert_eq!(
        usage,
        Usage {
            prompt_tokens: (prompt_chars / 4) as u64,
            completion_tokens: 4 * ("patch number 0".len() / 4) as u64
        }
    );
}

#[tokio::test]
async fn leaves_max_tokens_out_when_unset() {
    let backend = ScriptedBackend::start(repair_script(1)).await;
    let params = SamplingParams {
        max_tokens: None,
        ..SamplingParams::default()
    };
    let client = client(&backend);
    sample_with(&client, 1, &params, &CancellationToken::new())
        .await
        .0
        .unwrap();
    let body = &backend.requests()[0].body;
    assert!(body.get("max_tokens").is_none(), "{body}");
    // Nothing to fit, so the model list is not asked for.
    assert_eq!(backend.models_requests(), 0);
}

fn user_prompt() -> Vec<ChatMessage> {
    vec![ChatMessage::user(
        "Fix the issue. Answer with SEARCH/REPLACE edits.",
    )]
}

async fn sample_user_prompt(client: &BackendClient, n: usize) -> Result<Usage, BackendError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let result = client
        .sample(
            &user_prompt(),
            n,
            &SamplingParams::default(),
            tx,
            &CancellationToken::new(),
        )
        .await;
    let mut samples = 0;
    while rx.try_recv().is_ok() {
        samples += 1;
    }
    if result.is_ok() {
        assert_eq!(samples, n, "every sample arrives");
    }
    result
}

#[tokio::test]
async fn every_request_carries_the_system_message_once() {
    let backend = ScriptedBackend::start(repair_script(2).ignore_n()).await;
    sample_user_prompt(&client(&backend), 2).await.unwrap();
    // Topped up: two requests, each with the reference's system message first.
    let requests = backend.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.messages.len(), 2, "{:?}", request.messages);
        assert_eq!(request.system(), Some("You are a helpful assistant."));
        assert_eq!(request.prompt(), user_prompt()[0].content);
    }

    // A caller's own system message is sent instead, not as well.
    sample(&client(&backend), 1).await.0.unwrap();
    let last = backend.requests().pop().unwrap();
    assert_eq!(last.messages.len(), 2);
    assert_eq!(last.system(), Some("You are a careful engineer."));

    let silent = BackendClient::new(BackendConfig {
        system_message: None,
        ..config(vec![backend.base_url()])
    })
    .unwrap();
    sample_user_prompt(&silent, 1).await.unwrap();
    let last = backend.requests().pop().unwrap();
    assert_eq!(last.system(), None);
    assert_eq!(last.messages.len(), 1);
}

#[tokio::test]
async fn asks_for_32768_tokens_where_the_server_reports_no_context() {
    let backend = ScriptedBackend::start(repair_script(2)).await;
    let client = client(&backend);
    sample_user_prompt(&client, 1).await.unwrap();
    sample_user_prompt(&client, 1).await.unwrap();
    let requests = backend.requests();
    assert_eq!(requests[0].max_tokens, Some(32_768));
    assert_eq!(requests[1].max_tokens, Some(32_768));
    // Asked once for the endpoint, not once a request.
    assert_eq!(backend.models_requests(), 1);
}

/// The `max_tokens` the client fits into `context` for `user_prompt()` with the default system
/// message: its count is four bytes a token (rounded up) and eight for each message's chat
/// template, and it leaves a margin of 16.
fn fitted_max_tokens(context: u64) -> Option<u64> {
    let system = "You are a helpful assistant.".len().div_ceil(4) as u64 + 8;
    let user = user_prompt()[0].content.len().div_ceil(4) as u64 + 8;
    Some(context - system - user - 16)
}

#[tokio::test]
async fn fits_max_tokens_into_the_context_the_server_reports() {
    const CONTEXT: u64 = 8192;
    // The server refuses what does not fit, as vLLM does: the fitted request must not be refused.
    let backend = ScriptedBackend::start(
        repair_script(2)
            .max_model_len(CONTEXT)
            .context_window(CONTEXT),
    )
    .await;
    sample_user_prompt(&client(&backend), 2).await.unwrap();
    let requests = backend.requests();
    assert_eq!(requests.len(), 1, "no refusal, no retry");
    assert_eq!(requests[0].max_tokens, fitted_max_tokens(CONTEXT));
}

#[tokio::test]
async fn retries_once_with_what_the_context_leaves_after_a_refusal_for_length() {
    const CONTEXT: u64 = 4096;
    // A server that does not report its context, and refuses with vLLM's 400.
    let backend = ScriptedBackend::start(repair_script(3).context_window(CONTEXT)).await;
    let client = client(&backend);
    sample_user_prompt(&client, 2).await.unwrap();

    let requests = backend.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].max_tokens, Some(32_768));
    // The server's own count of the prompt (system and user message joined by a newline).
    let input = swiss_testkit::scripted_backend::prompt_tokens(&format!(
        "You are a helpful assistant.\n{}",
        user_prompt()[0].content
    ));
    assert_eq!(requests[1].max_tokens, Some(CONTEXT - input - 16));
    assert_eq!(requests[1].n, Some(2));

    // The endpoint's context is known from now on: the next call fits before it asks.
    sample_user_prompt(&client, 1).await.unwrap();
    let requests = backend.requests();
    assert_eq!(requests.len(), 3, "no second refusal");
    assert_eq!(requests[2].max_tokens, fitted_max_tokens(CONTEXT));
}

#[tokio::test]
async fn a_prompt_longer_than_the_context_is_not_sent_again() {
    let backend = ScriptedBackend::start(repair_script(1).context_window(10)).await;
    let err = sample_user_prompt(&client(&backend), 1).await.unwrap_err();
    assert!(
        matches!(err, BackendError::PromptTooLong { limit: 10, .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.starts_with("failed to fit the prompt"), "{message}");
    assert!(message.contains("repair.max_prompt_tokens"), "{message}");
    assert_eq!(backend.requests().len(), 1);
}

#[tokio::test]
async fn tops_up_a_server_that_ignores_n_to_exactly_n() {
    let backend = ScriptedBackend::start(repair_script(10).ignore_n()).await;
    let (result, samples) = sample(&client(&backend), 5).await;

    result.unwrap();
    assert_eq!(samples.len(), 5);
    assert_eq!(indices(&samples), (0..5).collect());
    assert_eq!(texts(&samples), patches(5).into_iter().collect());
    let asked: Vec<_> = backend.requests().iter().map(|r| r.n).collect();
    assert_eq!(asked, [Some(5), Some(1), Some(1), Some(1), Some(1)]);
}

#[tokio::test]
async fn splits_n_over_two_endpoints() {
    let first = ScriptedBackend::start(repair_script(10)).await;
    let second = ScriptedBackend::start(repair_script(10)).await;
    let client = BackendClient::new(config(vec![first.base_url(), second.base_url()])).unwrap();
    let (result, samples) = sample(&client, 6).await;

    result.unwrap();
    assert_eq!(samples.len(), 6);
    assert_eq!(indices(&samples), (0..6).collect());
    for backend in [&first, &second] {
        let asked: Vec<_> = backend.requests().iter().map(|r| r.n).collect();
        assert_eq!(asked, [Some(3)]);
    }
}

#[tokio::test]
async fn hands_a_dead_endpoints_share_to_the_live_one() {
    let live = ScriptedBackend::start(repair_script(10)).await;
    let client = BackendClient::new(config(vec![refused_url(), live.base_url()])).unwrap();
    let (result, samples) = sample(&client, 4).await;

    result.unwrap();
    assert_eq!(samples.len(), 4);
    assert_eq!(indices(&samples), (0..4).collect());
    let asked: u64 = live.requests().iter().filter_map(|r| r.n).sum();
    assert_eq!(asked, 4);
}

#[tokio::test]
async fn waits_as_long_as_retry_after_says() {
    let backend = ScriptedBackend::start(
        repair_script(3).fault(Fault::status(429, "slow down").with_retry_after(1)),
    )
    .await;
    let (result, samples) = sample(&client(&backend), 3).await;

    result.unwrap();
    assert_eq!(samples.len(), 3);
    let requests = backend.requests();
    assert_eq!(requests.len(), 2);
    // The configured backoff is 10 ms: only the header explains a pause of a second.
    let pause = requests[1].received_at - requests[0].received_at;
    assert!(
        pause >= Duration::from_millis(950),
        "retried after {pause:?}"
    );
}

#[tokio::test]
async fn retries_a_server_error() {
    let backend = ScriptedBackend::start(repair_script(3).fault(Fault::status(500, "oops"))).await;
    let (result, samples) = sample(&client(&backend), 3).await;

    result.unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(backend.requests().len(), 2);
}

#[tokio::test]
async fn gives_up_on_a_persistent_server_error_naming_url_and_status() {
    let mut script = repair_script(3);
    for _ in 0..10 {
        script = script.fault(Fault::status(500, "engine overloaded"));
    }
    let backend = ScriptedBackend::start(script).await;
    let (result, samples) = sample(&client(&backend), 3).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, BackendError::Status { status: 500, attempts, .. } if attempts == MAX_RETRIES + 1),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.starts_with("failed to "), "{message}");
    assert!(
        message.contains(&format!("{}/chat/completions", backend.base_url())),
        "{message}"
    );
    assert!(message.contains("HTTP 500"), "{message}");
    assert!(message.contains("engine overloaded"), "{message}");
    assert!(
        message.contains(&format!("{} attempts", MAX_RETRIES + 1)),
        "{message}"
    );
    assert!(samples.is_empty());
    assert_eq!(backend.requests().len(), MAX_RETRIES as usize + 1);
}

#[tokio::test]
async fn retries_garbage() {
    let backend = ScriptedBackend::start(repair_script(3).fault(Fault::Garbage)).await;
    let (result, samples) = sample(&client(&backend), 2).await;

    result.unwrap();
    assert_eq!(samples.len(), 2);
    assert_eq!(backend.requests().len(), 2);
}

#[tokio::test]
async fn retries_a_dropped_connection_and_a_timeout() {
    let backend = ScriptedBackend::start(
        repair_script(3)
            .fault(Fault::Drop)
            .fault(Fault::Delay(Duration::from_secs(3))),
    )
    .await;
    let config = BackendConfig {
        request_timeout: Duration::from_millis(300),
        ..config(vec![backend.base_url()])
    };
    let (result, samples) = sample(&BackendClient::new(config).unwrap(), 2).await;

    result.unwrap();
    assert_eq!(samples.len(), 2);
    assert_eq!(backend.requests().len(), 3);
}

#[tokio::test]
async fn gives_up_on_persistent_empty_choices() {
    let mut script = repair_script(3);
    for _ in 0..10 {
        script = script.fault(Fault::EmptyChoices);
    }
    let backend = ScriptedBackend::start(script).await;
    let (result, samples) = sample(&client(&backend), 2).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, BackendError::EmptyChoices { attempts, .. } if attempts == MAX_RETRIES + 1),
        "{err:?}"
    );
    assert!(err.to_string().contains(&backend.base_url()), "{err}");
    assert!(samples.is_empty());
}

#[tokio::test]
async fn reports_a_refused_connection_as_unreachable() {
    let url = refused_url();
    let client = BackendClient::new(config(vec![url.clone()])).unwrap();
    let (result, _) = sample(&client, 2).await;

    let err = result.unwrap_err();
    assert!(matches!(err, BackendError::Unreachable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with("failed to reach the backend at "),
        "{message}"
    );
    assert!(
        message.contains(&format!("{url}/chat/completions")),
        "{message}"
    );
    assert!(
        message.contains(&format!("{} attempts", MAX_RETRIES + 1)),
        "{message}"
    );
}

#[tokio::test]
async fn cancel_abandons_a_hanging_request() {
    let backend = ScriptedBackend::start(repair_script(3).fault(Fault::Hang)).await;
    let client = client(&backend);
    let cancel = CancellationToken::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
            Instant::now()
        })
    };
    let (result, samples) = sample_with(&client, 3, &SamplingParams::default(), &cancel).await;
    let returned = Instant::now();
    let cancelled_at = canceller.await.unwrap();

    assert!(matches!(result, Err(BackendError::Cancelled)), "{result:?}");
    assert!(
        returned - cancelled_at < Duration::from_secs(1),
        "took {:?}",
        returned - cancelled_at
    );
    assert!(samples.is_empty());
    assert_eq!(backend.requests().len(), 1);
}

#[tokio::test]
async fn cancel_mid_stream_keeps_what_finished_and_stops_at_once() {
    // Choices finish 2 s apart: the whole stream would take 8 s.
    let backend = ScriptedBackend::start(repair_script(4).stream_gap(Duration::from_secs(2))).await;
    let client = client(&backend);
    let cancel = CancellationToken::new();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (prompt, params) = (repair_prompt(), SamplingParams::default());
    let call = client.sample(&prompt, 4, &params, tx, &cancel);
    let first_then_cancel = async {
        let first = rx.recv().await.unwrap();
        cancel.cancel();
        (first, Instant::now())
    };
    let (result, (first, cancelled_at)) = tokio::join!(call, first_then_cancel);
    let returned = Instant::now();

    assert!(matches!(result, Err(BackendError::Cancelled)), "{result:?}");
    assert_eq!(first.index, 0);
    assert!(
        returned - cancelled_at < Duration::from_millis(500),
        "took {:?}",
        returned - cancelled_at
    );
    assert!(rx.try_recv().is_err(), "nothing after the cancel");
    assert_eq!(backend.requests().len(), 1);
}

#[tokio::test]
async fn sends_nothing_when_already_cancelled() {
    let backend = ScriptedBackend::start(repair_script(3)).await;
    let cancel = CancellationToken::new();
    cancel.cancel();
    let (result, _) = sample_with(&client(&backend), 3, &SamplingParams::default(), &cancel).await;

    assert!(matches!(result, Err(BackendError::Cancelled)), "{result:?}");
    assert!(backend.requests().is_empty());
}

#[tokio::test]
async fn counts_missing_usage_as_zero() {
    let backend = ScriptedBackend::start(repair_script(3).omit_usage()).await;
    for stream in [true, false] {
        let client = BackendClient::new(BackendConfig {
            stream,
            ..config(vec![backend.base_url()])
        })
        .unwrap();
        let (result, samples) = sample(&client, 3).await;

        assert_eq!(result.unwrap(), Usage::default(), "stream: {stream}");
        assert_eq!(samples.len(), 3, "stream: {stream}");
    }
}

#[tokio::test]
async fn a_streamed_sample_arrives_when_it_finishes_not_when_the_last_does() {
    let gap = Duration::from_millis(400);
    let backend = ScriptedBackend::start(repair_script(4).stream_gap(gap)).await;
    let client = client(&backend);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let started = Instant::now();
    let call = async {
        let result = client
            .sample(
                &repair_prompt(),
                4,
                &SamplingParams::default(),
                tx,
                &CancellationToken::new(),
            )
            .await;
        (result, started.elapsed())
    };
    let first = async {
        let first = rx.recv().await.unwrap();
        (first, started.elapsed())
    };
    let ((result, call_took), (first, first_took)) = tokio::join!(call, first);
    result.unwrap();
    assert_eq!(first.index, 0);
    assert!(
        call_took >= first_took + 2 * gap,
        "the first sample came after {first_took:?}, the call ended after {call_took:?}"
    );
    let mut rest = Vec::new();
    while let Ok(sample) = rx.try_recv() {
        rest.push(sample);
    }
    assert_eq!(rest.len(), 3);
    assert_eq!(backend.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_cut_off_keeps_what_finished_and_asks_only_for_the_rest() {
    let backend = ScriptedBackend::start(repair_script(6).fault(Fault::CutStream)).await;
    let (result, samples) = sample(&client(&backend), 3).await;

    result.unwrap();
    assert_eq!(samples.len(), 3);
    assert_eq!(indices(&samples), (0..3).collect());
    let asked: Vec<_> = backend.requests().iter().map(|r| r.n).collect();
    assert_eq!(asked, [Some(3), Some(2)]);
}

#[tokio::test]
async fn an_error_event_mid_stream_is_retried_then_reported() {
    let backend = ScriptedBackend::start(
        repair_script(3).fault(Fault::StreamError("KV cache is full".to_owned())),
    )
    .await;
    let (result, samples) = sample(&client(&backend), 2).await;
    result.unwrap();
    assert_eq!(samples.len(), 2);
    assert_eq!(backend.requests().len(), 2);

    for _ in 0..=MAX_RETRIES {
        backend.push_fault(Fault::StreamError("KV cache is full".to_owned()));
    }
    let (result, samples) = sample(&client(&backend), 2).await;
    let err = result.unwrap_err().to_string();
    assert!(samples.is_empty());
    assert!(
        err.contains("mid-stream")
            && err.contains("KV cache is full")
            && err.contains("gave up after 4 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_answers_a_stream_request_with_one_body_is_read() {
    let backend = ScriptedBackend::start(repair_script(3).no_streaming()).await;
    let (result, samples) = sample(&client(&backend), 3).await;

    assert!(result.unwrap().completion_tokens > 0);
    assert_eq!(samples.len(), 3);
    assert_eq!(backend.requests()[0].stream, Some(true));
}

#[tokio::test]
async fn a_stream_that_keeps_moving_may_outlast_the_request_timeout() {
    let backend =
        ScriptedBackend::start(repair_script(4).stream_gap(Duration::from_millis(300))).await;
    let config = BackendConfig {
        request_timeout: Duration::from_millis(800),
        ..config(vec![backend.base_url()])
    };
    let started = Instant::now();
    let (result, samples) = sample(&BackendClient::new(config).unwrap(), 4).await;

    result.unwrap();
    assert_eq!(samples.len(), 4);
    assert!(
        started.elapsed() > Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        backend.requests().len(),
        1,
        "no retry: the stream never stalled"
    );
}

#[tokio::test]
async fn sends_the_key_as_bearer_and_keeps_it_out_of_errors() {
    const KEY: &str = "sk-test-secret-42";
    let backend = ScriptedBackend::start(repair_script(3)).await;
    let config = BackendConfig {
        api_key: Some(KEY.to_owned()),
        ..config(vec![backend.base_url()])
    };
    assert!(!format!("{config:?}").contains(KEY));
    let client = BackendClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains(KEY));

    sample(&client, 1).await.0.unwrap();
    assert_eq!(
        backend.requests()[0].authorization.as_deref(),
        Some("Bearer sk-test-secret-42")
    );

    backend.push_fault(Fault::status(401, format!("invalid api key {KEY}")));
    let (result, _) = sample(&client, 1).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Status {
                status: 401,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains(KEY), "{err}");
    assert!(!format!("{err:?}").contains(KEY), "{err:?}");
    assert!(
        err.to_string().contains("invalid api key <redacted>"),
        "{err}"
    );
    // A rejected request is not retried.
    assert_eq!(backend.requests().len(), 2);
}

#[tokio::test]
async fn zero_samples_need_no_request() {
    let backend = ScriptedBackend::start(repair_script(3)).await;
    let (result, samples) = sample(&client(&backend), 0).await;

    assert_eq!(result.unwrap(), Usage::default());
    assert!(samples.is_empty());
    assert!(backend.requests().is_empty());
}

#[test]
fn refuses_a_bad_configuration() {
    for urls in [
        vec![],
        vec!["localhost:8000/v1".to_owned()],
        vec![
            "http://127.0.0.1:8000/v1".to_owned(),
            "ftp://x/v1".to_owned(),
        ],
    ] {
        let err = BackendClient::new(config(urls.clone())).unwrap_err();
        assert!(matches!(err, BackendError::Config(_)), "{urls:?}: {err:?}");
        assert!(
            err.to_string()
                .starts_with("failed to configure the backend client"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_server_that_refuses_streaming_is_asked_for_one_body_from_then_on() {
    let backend = ScriptedBackend::start(repair_script(3).fault(Fault::status(
        400,
        r#"{"error": {"message": "stream_options: extra inputs are not permitted"}}"#,
    )))
    .await;
    let client = client(&backend);
    let (result, samples) = sample(&client, 2).await;
    result.unwrap();
    assert_eq!(samples.len(), 2);
    let (result, samples) = sample(&client, 2).await;
    result.unwrap();
    assert_eq!(samples.len(), 2);
    let streamed: Vec<_> = backend.requests().iter().map(|r| r.stream).collect();
    assert_eq!(streamed, [Some(true), Some(false), Some(false)]);
}

#[tokio::test]
async fn a_bad_request_that_is_not_about_streaming_is_reported_and_streaming_stays_on() {
    let backend = ScriptedBackend::start(repair_script(3).fault(Fault::status(
        400,
        "This model's maximum context length is 32768 tokens",
    )))
    .await;
    let client = client(&backend);
    let (result, samples) = sample(&client, 2).await;
    let err = result.unwrap_err().to_string();
    assert!(samples.is_empty());
    assert!(
        err.contains("HTTP 400: This model's maximum context length is 32768 tokens (1 attempt)"),
        "{err}"
    );
    let (result, _) = sample(&client, 2).await;
    result.unwrap();
    let streamed: Vec<_> = backend.requests().iter().map(|r| r.stream).collect();
    assert_eq!(streamed, [Some(true), Some(true)]);
}
