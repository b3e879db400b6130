//! What a compute node asks of a job before it accepts the order: a size it
//! takes, room in its queue, payment in its mint at its price, and time to
//! run the job before the order's service deadline. [`NodeTerms::admit`]
//! decides from the order, the job and the node's backlog alone, so every
//! refusal is checked before the node signs anything on chain.

use depinkit_reports::job::MatrixJob;
use service_payments::state::Order;
use solana_sdk::pubkey::Pubkey;
use std::time::Instant;

/// Time the customer needs after a job ends to check the result, co-sign
/// the receipt and have the oracle attest it before the service deadline,
/// milliseconds.
pub const RECEIPT_MARGIN_MS: i64 = 60_000;

/// A node's terms for the jobs it takes.
#[derive(Clone, Debug)]
pub struct NodeTerms {
    /// Largest job, in multiply-adds ([`MatrixJob::work`]).
    pub max_work: u64,
    /// Jobs queued or running at most; more wait for another node.
    pub max_backlog: usize,
    /// Least escrow per million multiply-adds, in base units of the payment
    /// mint (0: any price).
    pub price_per_million_ops: u64,
    /// The mint orders must pay in.
    pub payment_mint: Pubkey,
    /// Multiply-adds this machine runs per second ([`measure_ops_per_sec`]).
    pub ops_per_sec: u64,
}

/// The jobs a node took and has not finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Jobs queued or running.
    pub jobs: usize,
    /// Their multiply-adds.
    pub work: u64,
}

/// Why a node does not take a job.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TermsRefused {
    /// Larger than the node takes.
    #[error("the job takes {work} multiply-adds, this node takes at most {max}")]
    TooMuchWork {
        /// The job's.
        work: u64,
        /// The node's limit.
        max: u64,
    },
    /// The queue is full.
    #[error("this node has {0} jobs queued or running; ask another node or later")]
    Busy(usize),
    /// The order pays in a mint the node does not take.
    #[error("the order pays in {got}, this node takes {want}")]
    OtherMint {
        /// The order's.
        got: Pubkey,
        /// The node's.
        want: Pubkey,
    },
    /// The escrow is below the node's price.
    #[error("the order escrows {escrowed}, this node asks {price} (base units) for the job")]
    Underpaid {
        /// The order's escrow.
        escrowed: u64,
        /// The node's price for the job.
        price: u64,
    },
    /// The job could not end, with the jobs ahead of it, in time for its
    /// receipt to be signed and attested before the service deadline.
    #[error(
        "the job would end about {ends_ms} (unix ms) with the queue ahead of it, too late for the service deadline {deadline} (unix s) less {RECEIPT_MARGIN_MS} ms for its receipt"
    )]
    TooLate {
        /// When it would end, estimated.
        ends_ms: i64,
        /// The order's service deadline.
        deadline: i64,
    },
}

impl TermsRefused {
    /// The HTTP status and reason code the node answers with.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            TermsRefused::TooMuchWork { .. } => (413, "too_much_work"),
            TermsRefused::Busy(_) => (503, "busy"),
            TermsRefused::OtherMint { .. } => (403, "other_mint"),
            TermsRefused::Underpaid { .. } => (402, "underpaid"),
            TermsRefused::TooLate { .. } => (403, "too_late"),
        }
    }
}

impl NodeTerms {
    /// The node's price for `spec`: its multiply-adds at the price per
    /// million, rounded up.
    pub fn price(&self, spec: &MatrixJob) -> u64 {
        let price =
            (u128::from(spec.work()) * u128::from(self.price_per_million_ops)).div_ceil(1_000_000);
        u64::try_from(price).unwrap_or(u64::MAX)
    }

    /// Milliseconds `work` multiply-adds take here, estimated (at least 1).
    pub fn run_ms(&self, work: u64) -> i64 {
        let ms = (u128::from(work) * 1000).div_ceil(u128::from(self.ops_per_sec.max(1)));
        i64::try_from(ms).unwrap_or(i64::MAX).max(1)
    }

    /// Whether the node takes the size of `spec` with `backlog` ahead of
    /// it: what it can tell before reading the order.
    pub fn admit_job(&self, spec: &MatrixJob, backlog: Backlog) -> Result<(), TermsRefused> {
        if spec.work() > self.max_work {
            return Err(TermsRefused::TooMuchWork {
                work: spec.work(),
                max: self.max_work,
            });
        }
        if backlog.jobs >= self.max_backlog {
            return Err(TermsRefused::Busy(backlog.jobs));
        }
        Ok(())
    }

    /// Whether the node takes `spec` for `order` at chain time `now_ms`
    /// with `backlog` ahead of it: [`NodeTerms::admit_job`], then the
    /// order's mint, escrow and service deadline.
    pub fn admit(
        &self,
        order: &Order,
        spec: &MatrixJob,
        backlog: Backlog,
        now_ms: i64,
    ) -> Result<(), TermsRefused> {
        self.admit_job(spec, backlog)?;
        if order.payment_mint != self.payment_mint {
            return Err(TermsRefused::OtherMint {
                got: order.payment_mint,
                want: self.payment_mint,
            });
        }
        let price = self.price(spec);
        if order.max_amount < price {
            return Err(TermsRefused::Underpaid {
                escrowed: order.max_amount,
                price,
            });
        }
        // The job queues behind the backlog and bills whole seconds.
        let ends_ms = now_ms
            .saturating_add(self.run_ms(backlog.work.saturating_add(spec.work())))
            .saturating_add(1000);
        if ends_ms.saturating_add(RECEIPT_MARGIN_MS) > order.service_deadline.saturating_mul(1000) {
            return Err(TermsRefused::TooLate {
                ends_ms,
                deadline: order.service_deadline,
            });
        }
        Ok(())
    }
}

/// This machine's multiply-adds per second, measured on one job of
/// 128 x 128 products (a few milliseconds): what the node estimates run
/// times from.
pub fn measure_ops_per_sec() -> u64 {
    let probe = MatrixJob {
        size: 128,
        count: 1,
        seed: depinkit_reports::Hash32([0x5e; 32]),
    };
    let began = Instant::now();
    std::hint::black_box(probe.run());
    let micros = began.elapsed().as_micros().max(1);
    u64::try_from(u128::from(probe.work()) * 1_000_000 / micros).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::orders::sample_order;
    use depinkit_reports::Hash32;
    use service_payments::state::{OrderStatus, Provider};

    const MINT: Pubkey = Pubkey::new_from_array([6; 32]);

    fn terms() -> NodeTerms {
        NodeTerms {
            max_work: 1 << 24,
            max_backlog: 2,
            // One token (6 decimals) per million multiply-adds.
            price_per_million_ops: 1_000_000,
            payment_mint: MINT,
            // A million multiply-adds a second.
            ops_per_sec: 1_000_000,
        }
    }

    /// 64^3 = 262,144 multiply-adds: 262,144 base units, 263 ms here.
    fn spec() -> MatrixJob {
        MatrixJob {
            size: 64,
            count: 1,
            seed: Hash32([1; 32]),
        }
    }

    fn order(max_amount: u64, service_deadline: i64) -> Order {
        Order {
            max_amount,
            service_deadline,
            ..sample_order(Provider::AnyDevice, OrderStatus::Open, None, spec().hash())
        }
    }

    #[test]
    fn a_job_paid_at_the_price_with_time_to_spare_is_taken() {
        let terms = terms();
        assert_eq!(terms.price(&spec()), 262_144);
        assert_eq!(terms.run_ms(spec().work()), 263);
        assert_eq!(
            terms.admit(
                &order(262_144, 2_000),
                &spec(),
                Backlog::default(),
                1_000_000
            ),
            Ok(())
        );
        let free = NodeTerms {
            price_per_million_ops: 0,
            ..terms
        };
        assert_eq!(
            free.admit(&order(0, 2_000), &spec(), Backlog::default(), 1_000_000),
            Ok(())
        );
    }

    #[test]
    fn each_term_refuses_by_name() {
        let terms = terms();
        let now_ms = 1_000_000;
        let big = MatrixJob {
            size: 512,
            count: 1,
            ..spec()
        };
        assert_eq!(
            terms.admit(&order(u64::MAX, 9_999), &big, Backlog::default(), now_ms),
            Err(TermsRefused::TooMuchWork {
                work: 1 << 27,
                max: 1 << 24
            })
        );
        let full = Backlog { jobs: 2, work: 0 };
        assert_eq!(
            terms.admit(&order(u64::MAX, 9_999), &spec(), full, now_ms),
            Err(TermsRefused::Busy(2))
        );
        let mut other_mint = order(u64::MAX, 9_999);
        other_mint.payment_mint = Pubkey::new_from_array([9; 32]);
        assert!(matches!(
            terms.admit(&other_mint, &spec(), Backlog::default(), now_ms),
            Err(TermsRefused::OtherMint { .. })
        ));
        assert_eq!(
            terms.admit(&order(262_143, 9_999), &spec(), Backlog::default(), now_ms),
            Err(TermsRefused::Underpaid {
                escrowed: 262_143,
                price: 262_144
            })
        );
        // 263 ms of work, a billed second and the receipt's minute: a
        // deadline 61 s away is too near, one 62 s away is not.
        assert!(matches!(
            terms.admit(&order(u64::MAX, 1_061), &spec(), Backlog::default(), now_ms),
            Err(TermsRefused::TooLate {
                deadline: 1_061,
                ..
            })
        ));
        assert_eq!(
            terms.admit(&order(u64::MAX, 1_062), &spec(), Backlog::default(), now_ms),
            Ok(())
        );
        // The same deadline with a minute of work queued ahead: too late.
        let queued = Backlog {
            jobs: 1,
            work: 60_000_000,
        };
        assert!(matches!(
            terms.admit(&order(u64::MAX, 1_062), &spec(), queued, now_ms),
            Err(TermsRefused::TooLate { .. })
        ));
        let codes: Vec<_> = [
            TermsRefused::TooMuchWork { work: 0, max: 0 },
            TermsRefused::Busy(0),
            TermsRefused::OtherMint {
                got: MINT,
                want: MINT,
            },
            TermsRefused::Underpaid {
                escrowed: 0,
                price: 0,
            },
            TermsRefused::TooLate {
                ends_ms: 0,
                deadline: 0,
            },
        ]
        .iter()
        .map(|r| r.status_and_code())
        .collect();
        assert_eq!(
            codes,
            [
                (413, "too_much_work"),
                (503, "busy"),
                (403, "other_mint"),
                (402, "underpaid"),
                (403, "too_late")
            ]
        );
    }
}
