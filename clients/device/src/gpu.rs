//! A GPU provider (compute): it answers an oracle's matrix-multiplication
//! challenges with the real product, and bills finished jobs with receipts
//! its customer co-signs (RULES.md, "Compute").

use crate::keys::DeviceKey;
use depinkit_reports::{
    Body, ComputeAnswer, ComputeChallenge, GpuReceipt, Hash32, Key, Report, SignedReport,
    challenge_matrices, multiply,
};

/// A GPU provider's device.
#[derive(Clone)]
pub struct GpuNode {
    key: DeviceKey,
    gpu_class: String,
}

/// A job a provider ran for a customer.
#[derive(Clone, Debug)]
pub struct Job {
    /// The order (its address) the customer opened and the device accepted.
    pub order: Key,
    /// When it ran, unix milliseconds.
    pub start_ms: i64,
    /// When it finished.
    pub end_ms: i64,
    /// GPU-seconds it used.
    pub gpu_seconds: u64,
    /// SHA-256 of its result, which the customer checked.
    pub result_hash: Hash32,
}

impl GpuNode {
    /// A node with `key` declaring GPUs of `gpu_class` (`a100`, `h100`).
    pub fn new(key: DeviceKey, gpu_class: &str) -> Self {
        GpuNode {
            key,
            gpu_class: gpu_class.into(),
        }
    }

    /// Its key.
    pub fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// The GPU class it declares.
    pub fn gpu_class(&self) -> &str {
        &self.gpu_class
    }

    /// Answers `challenge` at `at_ms`: the product of the matrices its seed
    /// draws, computed here.
    pub fn answer(&self, network: Key, challenge: ComputeChallenge, at_ms: i64) -> SignedReport {
        let (a, b) = challenge_matrices(&challenge.seed, challenge.size);
        let product = multiply(&a, &b, challenge.size);
        self.report(network, at_ms, ComputeAnswer { challenge, product })
    }

    /// The cheat of a wrong product: an answer that was not computed (one
    /// entry off).
    pub fn wrong_answer(
        &self,
        network: Key,
        challenge: ComputeChallenge,
        at_ms: i64,
    ) -> SignedReport {
        let (a, b) = challenge_matrices(&challenge.seed, challenge.size);
        let mut product = multiply(&a, &b, challenge.size);
        product[0] = (product[0] + 1) % depinkit_reports::FIELD_PRIME as u32;
        self.report(network, at_ms, ComputeAnswer { challenge, product })
    }

    fn report(&self, network: Key, at_ms: i64, answer: ComputeAnswer) -> SignedReport {
        Report {
            network,
            device: self.key.public(),
            timestamp_ms: at_ms,
            body: Body::ComputeAnswer(answer),
        }
        .sign(self.key.signing())
    }

    /// The receipt of `job` for `client` (the customer's wallet key), signed
    /// by this device as the job ends; the customer co-signs it with
    /// [`SignedReport::cosign`] once it accepts the work.
    pub fn receipt(&self, network: Key, client: Key, job: &Job) -> SignedReport {
        self.receipt_at(network, client, job, job.end_ms)
    }

    /// The receipt of `job` signed at `at_ms`: a node hands the customer a
    /// receipt made when the customer asks, so that it lands in an epoch
    /// that still takes reports however long after the job that is.
    pub fn receipt_at(&self, network: Key, client: Key, job: &Job, at_ms: i64) -> SignedReport {
        Report {
            network,
            device: self.key.public(),
            timestamp_ms: at_ms,
            body: Body::GpuReceipt(GpuReceipt {
                order: job.order,
                client,
                gpu_class: self.gpu_class.clone(),
                start_ms: job.start_ms,
                end_ms: job.end_ms,
                gpu_seconds: job.gpu_seconds,
                result_hash: job.result_hash,
            }),
        }
        .sign(self.key.signing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_real_products_and_the_cheat_is_one_entry_off() {
        let network = Key([1; 32]);
        let node = GpuNode::new(DeviceKey::from_seed([2; 32]), "a100");
        let oracle = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
        let challenge = ComputeChallenge::issue(
            &network,
            node.key().public(),
            "a100",
            Hash32([3; 32]),
            8,
            1_000,
            &oracle,
        );
        let honest = node.answer(network, challenge.clone(), 1_500);
        let wrong = node.wrong_answer(network, challenge.clone(), 1_500);
        let (Body::ComputeAnswer(honest), Body::ComputeAnswer(wrong)) =
            (&honest.report.body, &wrong.report.body)
        else {
            panic!("answers")
        };
        let (a, b) = challenge_matrices(&challenge.seed, 8);
        assert_eq!(honest.product, multiply(&a, &b, 8));
        assert_ne!(wrong.product, honest.product);
        assert_eq!(wrong.product[1..], honest.product[1..]);
    }
}
