//! A stand-in for an RPC node that goes away: an HTTP proxy in front of the
//! localnet's JSON-RPC (and a TCP proxy in front of its websocket) that, once
//! armed, catches the next `sendTransaction`, then refuses every connection
//! for a while (the node stopped), then answers every request with an error
//! for a while (the node came back unhealthy), then forwards again.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// What an armed proxy does when the next transaction comes.
#[derive(Clone, Copy, Debug)]
pub struct Outage {
    /// Whether the caught transaction reaches the node (its answer is lost)
    /// or not (the node stopped before it arrived).
    pub transaction_lands: bool,
    /// How long every connection is refused.
    pub down: Duration,
    /// Then how long every request is answered with an error.
    pub unhealthy: Duration,
}

/// What the proxy saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Transactions caught by an armed outage.
    pub caught: u32,
    /// Requests and connections refused while down.
    pub refused: u32,
    /// Requests answered with an error while unhealthy.
    pub errors: u32,
    /// Requests forwarded to the node.
    pub forwarded: u32,
}

#[derive(Default)]
struct State {
    armed: Option<Outage>,
    /// When the running outage started, and what it is.
    outage: Option<(Instant, Outage)>,
    seen: Seen,
}

/// How the proxy answers right now.
enum Health {
    Up,
    Down,
    Unhealthy,
}

impl State {
    fn health(&self) -> Health {
        match self.outage {
            Some((at, outage)) if at.elapsed() < outage.down => Health::Down,
            Some((at, outage)) if at.elapsed() < outage.down + outage.unhealthy => {
                Health::Unhealthy
            }
            _ => Health::Up,
        }
    }
}

/// The running proxy; it stops when dropped.
pub struct RpcProxy {
    /// JSON-RPC through the proxy.
    pub url: String,
    /// The websocket through the proxy.
    pub ws_url: String,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl RpcProxy {
    /// Starts proxying `rpc_url` and `ws_url` (the localnet's) on free ports.
    pub fn start(rpc_url: &str, ws_url: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (outage_started, _) = watch::channel(0u32);
        let outage_started = Arc::new(outage_started);
        let http = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let ws = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", http.local_addr().unwrap());
        let proxied_ws = format!("ws://{}", ws.local_addr().unwrap());
        let upstream = rpc_url.to_string();
        let ws_upstream = ws_url
            .trim_start_matches("ws://")
            .trim_end_matches('/')
            .to_string();
        {
            let state = state.clone();
            let outage_started = outage_started.clone();
            runtime.spawn(async move {
                let client = reqwest::Client::new();
                while let Ok((socket, _)) = http.accept().await {
                    tokio::spawn(serve_http(
                        socket,
                        state.clone(),
                        outage_started.clone(),
                        client.clone(),
                        upstream.clone(),
                    ));
                }
            });
        }
        {
            let state = state.clone();
            runtime.spawn(async move {
                while let Ok((socket, _)) = ws.accept().await {
                    if matches!(state.lock().unwrap().health(), Health::Down) {
                        state.lock().unwrap().seen.refused += 1;
                        continue;
                    }
                    tokio::spawn(pipe_websocket(
                        socket,
                        ws_upstream.clone(),
                        outage_started.subscribe(),
                    ));
                }
            });
        }
        RpcProxy {
            url,
            ws_url: proxied_ws,
            state,
            _runtime: runtime,
        }
    }

    /// Arms `outage` for the next transaction.
    pub fn arm(&self, outage: Outage) {
        self.state.lock().unwrap().armed = Some(outage);
    }

    /// What the proxy saw so far.
    pub fn seen(&self) -> Seen {
        self.state.lock().unwrap().seen
    }

    /// Whether the last outage is over.
    pub fn recovered(&self) -> bool {
        let state = self.state.lock().unwrap();
        state.armed.is_none() && matches!(state.health(), Health::Up)
    }
}

/// One client connection: HTTP/1.1 requests, kept alive.
async fn serve_http(
    socket: TcpStream,
    state: Arc<Mutex<State>>,
    outage_started: Arc<watch::Sender<u32>>,
    client: reqwest::Client,
    upstream: String,
) {
    let mut reader = BufReader::new(socket);
    loop {
        let Some(body) = read_request(&mut reader).await else {
            return;
        };
        let is_transaction = body.windows(15).any(|w| w == b"sendTransaction");
        let (health, caught) = {
            let mut state = state.lock().unwrap();
            let caught = match (is_transaction, state.armed) {
                (true, Some(outage)) => {
                    state.armed = None;
                    state.outage = Some((Instant::now(), outage));
                    state.seen.caught += 1;
                    Some(outage)
                }
                _ => None,
            };
            (state.health(), caught)
        };
        if let Some(outage) = caught {
            outage_started.send_modify(|n| *n += 1);
            if outage.transaction_lands {
                let _ = forward(&client, &upstream, body).await;
            }
            // The node went away before it answered.
            return;
        }
        let answer = match health {
            Health::Down => {
                state.lock().unwrap().seen.refused += 1;
                return;
            }
            Health::Unhealthy => {
                let mut state = state.lock().unwrap();
                state.seen.errors += 1;
                if state.seen.errors.is_multiple_of(2) {
                    (503, b"the node is starting".to_vec())
                } else {
                    let id = serde_json::from_slice::<serde_json::Value>(&body)
                        .map(|request| request["id"].clone())
                        .unwrap_or_default();
                    let error = serde_json::json!({
                        "jsonrpc": "2.0",
                        "error": {"code": -32005, "message": "Node is unhealthy"},
                        "id": id,
                    });
                    (200, error.to_string().into_bytes())
                }
            }
            Health::Up => {
                state.lock().unwrap().seen.forwarded += 1;
                match forward(&client, &upstream, body).await {
                    Some(answer) => answer,
                    None => return,
                }
            }
        };
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            answer.0,
            if answer.0 == 200 {
                "OK"
            } else {
                "Service Unavailable"
            },
            answer.1.len()
        );
        let socket = reader.get_mut();
        if socket.write_all(head.as_bytes()).await.is_err()
            || socket.write_all(&answer.1).await.is_err()
        {
            return;
        }
    }
}

/// The body of the next request on the connection, `None` at its end.
async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            if first {
                continue;
            }
            break;
        }
        first = false;
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(body)
}

/// Posts `body` to the node; its status and body.
async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    body: Vec<u8>,
) -> Option<(u16, Vec<u8>)> {
    let response = client
        .post(upstream)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.bytes().await.ok()?.to_vec()))
}

/// Pipes a websocket connection to the node's until either side closes or
/// an outage starts (the node's sockets die with it).
async fn pipe_websocket(mut socket: TcpStream, upstream: String, mut outage: watch::Receiver<u32>) {
    let Ok(mut node) = TcpStream::connect(&upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut socket, &mut node) => {}
        _ = outage.changed() => {}
    }
}
