//! `depin-oracle verify-epoch N --bundle URL|FILE`: anyone recomputes an
//! epoch's root from its bundle (every signature re-verified, the rule set
//! re-run, the split and the tree rebuilt) and compares it with the root the
//! pool finalized on chain. The chain keeps only the latest root, so the
//! comparison is with the latest finalized epoch; an older bundle is checked
//! on its own and said to be so.

use crate::{
    bundle::{Bundle, verify},
    chain::Chain,
};
use anchor_lang::prelude::Pubkey;
use depinkit_sdk::proofs::hex;

/// What the check found: `Ok` with what agrees, `Err` with why not.
pub type Verdict = Result<String, String>;

/// Reads a bundle from a file path or an `http(s)://` URL (an oracle's
/// `GET /v1/epochs/{n}/bundle`).
pub async fn read_bundle(source: &str) -> Result<Bundle, String> {
    let bytes = if source.starts_with("http://") || source.starts_with("https://") {
        let response = reqwest::get(source)
            .await
            .map_err(|e| format!("cannot fetch {source}: {e}"))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| format!("{source}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{source} answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        bytes.to_vec()
    } else {
        std::fs::read(source).map_err(|e| format!("cannot read {source}: {e}"))?
    };
    serde_json::from_slice(&bytes).map_err(|e| format!("{source} is not a bundle: {e}"))
}

/// Checks `bundle` (said to be of `epoch`) against itself and the chain.
pub async fn verify_epoch<C: Chain>(chain: &C, epoch: u64, bundle: &Bundle) -> Verdict {
    if bundle.epoch != epoch {
        return Err(format!(
            "the bundle is of epoch {}, not {epoch}",
            bundle.epoch
        ));
    }
    let recomputed = verify(bundle).map_err(|e| e.to_string())?;
    let network: Pubkey = bundle
        .network
        .parse()
        .map_err(|_| "the bundle's network is not an address".to_string())?;
    let pool = chain.pool(&network).await.map_err(|e| e.to_string())?;
    let end = u32::try_from(epoch).ok().and_then(|e| pool.epoch_end(e));
    if pool.epoch_length_secs != bundle.epoch_length_secs
        || end != Some(bundle.epoch_start + bundle.epoch_length_secs)
    {
        return Err("the bundle's epoch times are not the pool's".into());
    }
    let latest = pool.next_epoch.checked_sub(1).map(u64::from);
    if latest != Some(epoch) {
        return Err(format!(
            "the bundle recomputes to root {} (total {}), but epoch {epoch} is not the pool's \
             latest finalized epoch ({}): the chain keeps only the latest root",
            hex(&recomputed.root),
            recomputed.total,
            latest.map_or("none".into(), |l| l.to_string())
        ));
    }
    if recomputed.root != pool.root || recomputed.total != pool.root_total {
        return Err(format!(
            "the bundle recomputes to root {} (total {}), but the pool finalized {} (total {})",
            hex(&recomputed.root),
            recomputed.total,
            hex(&pool.root),
            pool.root_total
        ));
    }
    let scheduled = u64::try_from(pool.scheduled_to_date).unwrap_or(u64::MAX);
    if bundle.amount != scheduled.saturating_sub(recomputed.previous_total) {
        return Err(format!(
            "the bundle distributes {}, but the pool had {} to distribute",
            bundle.amount,
            scheduled.saturating_sub(recomputed.previous_total)
        ));
    }
    Ok(format!(
        "epoch {epoch}: {} reports re-verified; root {} (total {}) is the one the pool finalized",
        recomputed.reports,
        hex(&recomputed.root),
        recomputed.total
    ))
}
