//! A minimal LSP client for driving the real server in-process over `tokio::io::duplex`
//! (typos-lsp style): it frames JSON-RPC, answers the server's requests through a responder the
//! test can replace, and records every notification and server request for assertions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, WriteHalf};
use tokio::sync::oneshot;
use tower_lsp_server::lsp_types::Uri;
use tower_lsp_server::UriExt;

type Responder = Box<dyn Fn(&str, &Value) -> Value + Send>;

pub struct TestClient {
    writer: Arc<tokio::sync::Mutex<WriteHalf<DuplexStream>>>,
    next_id: AtomicI64,
    pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>,
    /// (method, params) of every notification, in arrival order.
    notifications: Arc<Mutex<Vec<(String, Value)>>>,
    /// (method, params) of every request the server sent us, in arrival order.
    server_requests: Arc<Mutex<Vec<(String, Value)>>>,
    responder: Arc<Mutex<Responder>>,
}

/// What a plain editor answers: yes to progress tokens and edits, nothing to the rest.
pub fn default_answer(method: &str, _params: &Value) -> Value {
    match method {
        "workspace/applyEdit" => json!({ "applied": true }),
        "window/showDocument" => json!({ "success": true }),
        "workspace/configuration" => json!([null]),
        _ => Value::Null,
    }
}

impl TestClient {
    /// Starts the server on this runtime, wired to a fresh client.
    pub fn start() -> TestClient {
        let (client_side, server_side) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_side);
        tokio::spawn(swiss::lsp::serve(server_read, server_write));
        let (read, write) = tokio::io::split(client_side);
        let client = TestClient {
            writer: Arc::new(tokio::sync::Mutex::new(write)),
            next_id: AtomicI64::new(1),
            pending: Arc::default(),
            notifications: Arc::default(),
            server_requests: Arc::default(),
            responder: Arc::new(Mutex::new(Box::new(default_answer))),
        };
        tokio::spawn(read_loop(
            BufReader::new(read),
            client.writer.clone(),
            client.pending.clone(),
            client.notifications.clone(),
            client.server_requests.clone(),
            client.responder.clone(),
        ));
        client
    }

    pub fn set_responder(&self, responder: impl Fn(&str, &Value) -> Value + Send + 'static) {
        *self.responder.lock().unwrap() = Box::new(responder);
    }

    /// The result, or the JSON-RPC error object.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, tx);
        send(
            &self.writer,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await;
        let response = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .unwrap_or_else(|_| panic!("no answer to {method} within 30 s"))
            .expect("the reader stopped");
        match response.get("error") {
            Some(error) => Err(error.clone()),
            None => Ok(response["result"].clone()),
        }
    }

    pub async fn notify(&self, method: &str, params: Value) {
        send(
            &self.writer,
            &json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await;
    }

    pub async fn execute(&self, command: &str, arguments: Value) -> Result<Value, Value> {
        self.request(
            "workspace/executeCommand",
            json!({"command": command, "arguments": arguments}),
        )
        .await
    }

    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.notifications
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub fn server_requests(&self, method: &str) -> Vec<Value> {
        self.server_requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _)| m == method)
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// The first notification of `method` whose params satisfy `matches`, waiting for it.
    pub async fn wait_notification(
        &self,
        method: &str,
        matches: impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.notifications(method).into_iter().find(|p| matches(p)) {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "no matching {method} within {timeout:?}; got:\n{:#?}",
                    self.notifications.lock().unwrap()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_server_request(&self, method: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.server_requests(method).into_iter().next() {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no {method} request within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// `initialize` + `initialized` for a workspace at `root`.
    pub async fn initialize(&self, root: &Path, capabilities: Value, options: Value) -> Value {
        let root_uri = uri(root);
        let result = self
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root_uri,
                    "workspaceFolders": [{"uri": root_uri, "name": "fixture"}],
                    "capabilities": capabilities,
                    "initializationOptions": options,
                }),
            )
            .await
            .expect("initialize succeeds");
        self.notify("initialized", json!({})).await;
        result
    }

    pub async fn did_open(&self, path: &Path, version: i32, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {
                "uri": uri(path), "languageId": "python", "version": version, "text": text,
            }}),
        )
        .await;
    }

    pub async fn shutdown(&self) {
        let _ = self.request("shutdown", Value::Null).await;
        self.notify("exit", Value::Null).await;
    }
}

pub fn uri(path: &Path) -> String {
    Uri::from_file_path(path)
        .expect("absolute path")
        .as_str()
        .to_owned()
}

pub fn path_of(uri: &str) -> PathBuf {
    let uri: Uri = uri.parse().expect("a URI");
    uri.to_file_path().expect("a file URI").into_owned()
}

async fn send(writer: &tokio::sync::Mutex<WriteHalf<DuplexStream>>, message: &Value) {
    let body = message.to_string();
    let mut writer = writer.lock().await;
    writer
        .write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await
        .expect("write to the server");
    writer.flush().await.expect("flush");
}

async fn read_loop(
    mut reader: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    writer: Arc<tokio::sync::Mutex<WriteHalf<DuplexStream>>>,
    pending: Arc<Mutex<HashMap<i64, oneshot::Sender<Value>>>>,
    notifications: Arc<Mutex<Vec<(String, Value)>>>,
    server_requests: Arc<Mutex<Vec<(String, Value)>>>,
    responder: Arc<Mutex<Responder>>,
) {
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.expect("a Content-Length header")];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let message: Value = serde_json::from_slice(&body).expect("the server sends JSON");
        let method = message["method"].as_str().map(str::to_owned);
        match (method, message.get("id")) {
            (Some(method), Some(id)) => {
                let params = message["params"].clone();
                server_requests
                    .lock()
                    .unwrap()
                    .push((method.clone(), params.clone()));
                let result = (responder.lock().unwrap())(&method, &params);
                send(
                    &writer,
                    &json!({"jsonrpc": "2.0", "id": id, "result": result}),
                )
                .await;
            }
            (Some(method), None) => notifications
                .lock()
                .unwrap()
                .push((method, message["params"].clone())),
            (None, Some(id)) => {
                if let Some(tx) = id
                    .as_i64()
                    .and_then(|id| pending.lock().unwrap().remove(&id))
                {
                    let _ = tx.send(message);
                }
            }
            (None, None) => {}
        }
    }
}

/// Applies a `WorkspaceEdit` (as JSON) to the files on disk, as an editor would and then save:
/// `documentChanges` with `create` operations and versioned edits, or `changes`.
pub fn apply_to_disk(edit: &Value) {
    let mut per_file: Vec<(PathBuf, Vec<Value>)> = Vec::new();
    if let Some(operations) = edit["documentChanges"].as_array() {
        for op in operations {
            if op["kind"] == "create" {
                let path = path_of(op["uri"].as_str().unwrap());
                assert!(!path.exists(), "create over an existing file");
                std::fs::write(&path, "").unwrap();
            } else if op.get("kind").is_none() {
                let path = path_of(op["textDocument"]["uri"].as_str().unwrap());
                per_file.push((path, op["edits"].as_array().unwrap().clone()));
            }
        }
    } else if let Some(changes) = edit["changes"].as_object() {
        for (uri, edits) in changes {
            per_file.push((path_of(uri), edits.as_array().unwrap().clone()));
        }
    }
    for (path, edits) in per_file {
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, apply_text_edits(&text, &edits)).unwrap();
    }
}

/// Text edits of one document, all relative to the original text, applied back to front.
pub fn apply_text_edits(text: &str, edits: &[Value]) -> String {
    let offset = |position: &Value| -> usize {
        let line = position["line"].as_u64().unwrap() as usize;
        let character = position["character"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let rest = &text[start.min(text.len())..];
        let mut units = 0;
        for (at, ch) in rest.char_indices() {
            if units >= character || ch == '\n' {
                return start + at;
            }
            units += ch.len_utf16();
        }
        text.len()
    };
    let mut ranges: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    ranges.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut out = text.to_owned();
    for (start, end, new_text) in ranges {
        out.replace_range(start..end, &new_text);
    }
    out
}
