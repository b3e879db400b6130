//! Talking to an oracle's API as a device does: its latest entropy, the
//! challenges it issues (compute) and seeds it serves (storage), and
//! reports in binary batches, each answered per report. A batch refused
//! whole for the device's rate (429) or a store that is down (503) is sent
//! again after the wait the oracle asks for.

use depinkit_reports::{BINARY_CONTENT_TYPE, BatchAnswer, Entropy, SignedReport, encode_batch};
use std::time::Duration;

/// Why the oracle could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// It could not be reached.
    #[error("cannot reach {0}: {1}")]
    Unreachable(String, reqwest::Error),
    /// It answered with an error.
    #[error("{0} answered {1}: {2}")]
    Refused(String, u16, String),
}

/// An oracle's API.
#[derive(Clone)]
pub struct OracleClient {
    base: String,
    http: reqwest::Client,
    /// Times a batch answered 429 or 503 is sent again.
    pub retries: u32,
}

impl OracleClient {
    /// The API at `base` (`http://127.0.0.1:8780`).
    pub fn new(base: &str) -> Self {
        OracleClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            retries: 5,
        }
    }

    /// The oracle's latest entropy, for beacons.
    pub async fn entropy(&self) -> Result<Entropy, ClientError> {
        self.get_json(format!("{}/v1/entropy", self.base)).await
    }

    /// A compute challenge the oracle issues to `device` declaring
    /// `gpu_class` (answer it before the oracle's bound).
    pub async fn compute_challenge(
        &self,
        device: &depinkit_reports::Key,
        gpu_class: &str,
    ) -> Result<depinkit_reports::ComputeChallenge, ClientError> {
        self.get_json(format!(
            "{}/v1/challenges/compute?device={device}&gpu_class={gpu_class}",
            self.base
        ))
        .await
    }

    /// The running epoch's storage seed (answer its challenges before the
    /// epoch ends).
    pub async fn storage_seed(
        &self,
    ) -> Result<depinkit_reports::storage::StorageSeed, ClientError> {
        self.get_json(format!("{}/v1/challenges/storage", self.base))
            .await
    }

    /// GETs `url` and decodes its JSON; a non-2xx answer is `Refused`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
    ) -> Result<T, ClientError> {
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(url.clone(), e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(ClientError::Refused(url, status.as_u16(), body));
        }
        response
            .json()
            .await
            .map_err(|e| ClientError::Unreachable(url, e))
    }

    /// Announces a storage node (`POST /v1/providers`): `Ok` once the oracle
    /// keeps it, or keeps a later one of the same device.
    pub async fn announce(
        &self,
        signed: &depinkit_reports::provider::SignedAnnouncement,
    ) -> Result<(), ClientError> {
        let url = format!("{}/v1/providers", self.base);
        let response = self
            .http
            .post(&url)
            .json(signed)
            .send()
            .await
            .map_err(|e| ClientError::Unreachable(url.clone(), e))?;
        let status = response.status().as_u16();
        if response.status().is_success() || status == 409 {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        Err(ClientError::Refused(url, status, text))
    }

    /// Sends one batch; the oracle's answer, one verdict per report.
    pub async fn send(&self, reports: &[SignedReport]) -> Result<BatchAnswer, ClientError> {
        let url = format!("{}/v1/reports", self.base);
        let body = encode_batch(reports);
        let mut attempt = 0;
        loop {
            let response = self
                .http
                .post(&url)
                .header("content-type", BINARY_CONTENT_TYPE)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| ClientError::Unreachable(url.clone(), e))?;
            let status = response.status();
            if status.is_success() {
                return response
                    .json()
                    .await
                    .map_err(|e| ClientError::Unreachable(url.clone(), e));
            }
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(1);
            let text = response.text().await.unwrap_or_default();
            if (status.as_u16() == 429 || status.as_u16() == 503) && attempt < self.retries {
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(wait.min(30))).await;
                continue;
            }
            return Err(ClientError::Refused(url, status.as_u16(), text));
        }
    }

    /// Sends `reports` in batches of at most `batch`; every verdict, in order.
    pub async fn send_all(
        &self,
        reports: &[SignedReport],
        batch: usize,
    ) -> Result<Vec<depinkit_reports::Verdict>, ClientError> {
        let mut verdicts = Vec::with_capacity(reports.len());
        for chunk in reports.chunks(batch.max(1)) {
            verdicts.extend(self.send(chunk).await?.results);
        }
        Ok(verdicts)
    }
}
