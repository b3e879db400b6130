//! A customer talking to a compute node (`depin-device compute-node`):
//! send the job for an order, wait for it, fetch its result and the
//! receipt the node signs. `depin order job|result` and the demo's GPU
//! customer use it; the checks before co-signing are the caller's
//! ([`depinkit_reports::job::MatrixJob::check_result`]).

use depinkit_reports::{Key, SignedReport, job::MatrixJob};
use std::time::{Duration, Instant};

/// Longest wait to connect to a node.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for a status or a receipt.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest wait for a job to be taken: the node reads the order, accepts
/// it on chain and waits to see the acceptance.
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(150);

/// Longest wait for the next piece of a result.
const CHUNK_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the node could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JobClientError {
    /// It could not be reached, or answered something unreadable.
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, String),
    /// It refused, with its reason code.
    #[error("{url} answered {status} {code}: {message}")]
    Refused {
        /// What was asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The node's reason code (`taken_by_another`, `spec_mismatch`...).
        code: String,
        /// Why, in words.
        message: String,
    },
    /// The job did not finish in the time given.
    #[error("the job is still {status} after {secs} s")]
    NotDone {
        /// Where it stands.
        status: String,
        /// Seconds waited.
        secs: u64,
    },
}

/// The jobs API of the node at an endpoint.
#[derive(Clone)]
pub struct JobClient {
    endpoint: String,
    http: reqwest::Client,
}

impl JobClient {
    /// The node at `endpoint` (`http://10.0.0.7:8791`).
    pub fn new(endpoint: &str) -> Self {
        JobClient {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .build()
                .expect("an HTTP client with default TLS settings"),
        }
    }

    /// The node's URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn url(&self, order: &Key, tail: &str) -> String {
        format!("{}/v1/jobs/{order}{tail}", self.endpoint)
    }

    /// Sends `request`; the response when it is a success, else the node's
    /// refusal.
    async fn send(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, JobClientError> {
        let response = request
            .send()
            .await
            .map_err(|e| JobClientError::Unreachable(url.to_string(), e.to_string()))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        Err(JobClientError::Refused {
            url: url.to_string(),
            status,
            code: body["error"].as_str().unwrap_or("?").to_string(),
            message: body["message"].as_str().unwrap_or_default().to_string(),
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(&self, url: String) -> Result<T, JobClientError> {
        self.send(&url, self.http.get(&url).timeout(REQUEST_TIMEOUT))
            .await?
            .json()
            .await
            .map_err(|e| JobClientError::Unreachable(url, e.to_string()))
    }

    /// Sends `spec` for `order`: the node checks the order on chain,
    /// accepts it, and queues the job. Its standing, as the node shows it.
    /// A node that does not answer in time may still have accepted the
    /// order: read it on chain before opening another.
    pub async fn submit(
        &self,
        order: &Key,
        spec: &MatrixJob,
    ) -> Result<serde_json::Value, JobClientError> {
        let url = self.url(order, "");
        self.send(&url, self.http.put(&url).json(spec).timeout(SUBMIT_TIMEOUT))
            .await?
            .json()
            .await
            .map_err(|e| JobClientError::Unreachable(url, e.to_string()))
    }

    /// The job of `order` as the node shows it (`status`, `spec`, times,
    /// `result_hash`).
    pub async fn status(&self, order: &Key) -> Result<serde_json::Value, JobClientError> {
        self.json(self.url(order, "")).await
    }

    /// The job's spec as the node runs it.
    pub async fn spec(&self, order: &Key) -> Result<MatrixJob, JobClientError> {
        let status = self.status(order).await?;
        serde_json::from_value(status["spec"].clone())
            .map_err(|e| JobClientError::Unreachable(self.url(order, ""), e.to_string()))
    }

    /// Waits up to `timeout` for the job of `order` to be done.
    pub async fn wait_done(&self, order: &Key, timeout: Duration) -> Result<(), JobClientError> {
        let began = Instant::now();
        loop {
            let status = self.status(order).await?;
            if status["status"] == "done" {
                return Ok(());
            }
            if began.elapsed() > timeout {
                return Err(JobClientError::NotDone {
                    status: status["status"].as_str().unwrap_or("?").to_string(),
                    secs: timeout.as_secs(),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The result's bytes, read up to one byte past `want` (the job's
    /// [`MatrixJob::result_len`]): a node cannot make the customer take
    /// more, and a result of another length fails the customer's check.
    pub async fn result(&self, order: &Key, want: usize) -> Result<Vec<u8>, JobClientError> {
        let url = self.url(order, "/result");
        let mut response = self.send(&url, self.http.get(&url)).await?;
        let unreadable = |e: String| JobClientError::Unreachable(url.clone(), e);
        let mut result = Vec::with_capacity(want);
        while result.len() <= want {
            let chunk = tokio::time::timeout(CHUNK_TIMEOUT, response.chunk())
                .await
                .map_err(|_| unreadable(format!("nothing sent in {} s", CHUNK_TIMEOUT.as_secs())))?
                .map_err(|e| unreadable(e.to_string()))?;
            let Some(chunk) = chunk else { break };
            let room = want + 1 - result.len();
            result.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        Ok(result)
    }

    /// The receipt, signed by the node's device now, for the customer to
    /// check and co-sign.
    pub async fn receipt(&self, order: &Key) -> Result<SignedReport, JobClientError> {
        self.json(self.url(order, "/receipt")).await
    }
}
