//! The oracle's view of its network's devices, read from the chain, so that
//! every report is authenticated against the registry: the right network, a
//! device key the network onboarded, an active device, a kind of report the
//! network's category sends.
//!
//! The view is refreshed on an interval by the daemon, and on demand when a
//! report names a key it does not know (a device onboarded since the last
//! read), at most once per `min_refresh_interval` so that reports from made-up
//! keys cannot turn into a flood of chain reads.

use crate::chain::{Chain, ChainError};
use anchor_lang::prelude::Pubkey;
use depinkit_reports::{Key, Rejection, Report};
use device_registry::state::{Category, Device, DeviceStatus};
use std::{collections::HashMap, sync::Arc};
use tokio::{
    sync::{Mutex, RwLock},
    time::{Duration, Instant},
};

/// What the oracle knows of a device that sent a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisteredDevice {
    /// The device NFT: its leaf in the reward tree, its holder gets the rewards.
    pub mint: Pubkey,
    /// Its asserted H3 cell, or `Device::NO_LOCATION`.
    pub location: u64,
    /// Active (false: suspended).
    pub active: bool,
}

impl From<&Device> for RegisteredDevice {
    fn from(device: &Device) -> Self {
        RegisteredDevice {
            mint: device.mint,
            location: device.location,
            active: device.status == DeviceStatus::Active,
        }
    }
}

/// The category's name as report kinds give it ([`depinkit_reports::Kind::category`]).
pub fn category_name(category: Category) -> &'static str {
    match category {
        Category::Wireless => "wireless",
        Category::Mapping => "mapping",
        Category::Storage => "storage",
        Category::Compute => "compute",
    }
}

/// The network's devices as last read, by device key.
pub struct Registry<C> {
    chain: Arc<C>,
    network: Pubkey,
    category: Category,
    devices: RwLock<HashMap<Key, RegisteredDevice>>,
    /// When the last read started (successful or not), for the rate limit.
    last_read: Mutex<Instant>,
    min_refresh_interval: Duration,
}

impl<C: Chain> Registry<C> {
    /// Reads the network and its devices.
    pub async fn load(
        chain: Arc<C>,
        network: Pubkey,
        min_refresh_interval: Duration,
    ) -> Result<Self, ChainError> {
        let category = chain.network(&network).await?.category;
        let registry = Registry {
            chain,
            network,
            category,
            devices: RwLock::new(HashMap::new()),
            last_read: Mutex::new(Instant::now()),
            min_refresh_interval,
        };
        registry.read_devices().await?;
        Ok(registry)
    }

    /// The network's category.
    pub fn category(&self) -> Category {
        self.category
    }

    /// Devices known now.
    pub async fn len(&self) -> usize {
        self.devices.read().await.len()
    }

    /// Whether no device is known.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Reads the devices again (the daemon's periodic refresh): their count.
    pub async fn refresh(&self) -> Result<usize, ChainError> {
        *self.last_read.lock().await = Instant::now();
        self.read_devices().await
    }

    async fn read_devices(&self) -> Result<usize, ChainError> {
        let devices: HashMap<Key, RegisteredDevice> = self
            .chain
            .devices(&self.network)
            .await?
            .into_iter()
            .collect();
        let count = devices.len();
        *self.devices.write().await = devices;
        Ok(count)
    }

    /// Every device as last read, by key.
    pub async fn all(&self) -> Vec<(Key, RegisteredDevice)> {
        let mut devices: Vec<_> = self
            .devices
            .read()
            .await
            .iter()
            .map(|(key, device)| (*key, *device))
            .collect();
        devices.sort_by_key(|(key, _)| *key);
        devices
    }

    /// The device with `key`, as last read.
    pub async fn device(&self, key: &Key) -> Option<RegisteredDevice> {
        self.devices.read().await.get(key).copied()
    }

    /// The device with `key`; when unknown, after one rate-limited re-read
    /// of the network's devices (it may have been onboarded since).
    pub async fn known_device(&self, key: &Key) -> Option<RegisteredDevice> {
        if let Some(device) = self.device(key).await {
            return Some(device);
        }
        if self.refresh_if_due().await {
            return self.device(key).await;
        }
        None
    }

    /// Re-reads the one device account at `address` (an event named it) and
    /// keeps what it says; whether the account exists.
    pub async fn refresh_device(&self, address: &Pubkey) -> Result<bool, ChainError> {
        match self.chain.device(address).await? {
            Some((key, device)) => {
                self.devices.write().await.insert(key, device);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Reads again if a read may start now (at most once per
    /// `min_refresh_interval`); whether it read.
    async fn refresh_if_due(&self) -> bool {
        let mut last = self.last_read.lock().await;
        if last.elapsed() < self.min_refresh_interval {
            return false;
        }
        *last = Instant::now();
        drop(last);
        self.read_devices().await.is_ok()
    }

    /// Authenticates each report's sender, in order: `WrongNetwork`,
    /// `WrongCategory`, `UnknownDevice` (after at most one rate-limited
    /// re-read for the whole batch) or `SuspendedDevice`, else the device.
    /// A device refused as unknown may send again later: once the oracle has
    /// read its onboarding, it is known.
    pub async fn authenticate(
        &self,
        reports: &[&Report],
    ) -> Vec<Result<RegisteredDevice, Rejection>> {
        let mut outcomes = self.look_up(reports).await;
        let unknown = outcomes.contains(&Err(Rejection::UnknownDevice));
        if unknown && self.refresh_if_due().await {
            outcomes = self.look_up(reports).await;
        }
        outcomes
    }

    async fn look_up(&self, reports: &[&Report]) -> Vec<Result<RegisteredDevice, Rejection>> {
        let network = Key(self.network.to_bytes());
        let category = category_name(self.category);
        let devices = self.devices.read().await;
        reports
            .iter()
            .map(|report| {
                if report.network != network {
                    return Err(Rejection::WrongNetwork);
                }
                if report.kind().category() != category {
                    return Err(Rejection::WrongCategory);
                }
                let device = devices
                    .get(&report.device)
                    .ok_or(Rejection::UnknownDevice)?;
                if !device.active {
                    return Err(Rejection::SuspendedDevice);
                }
                Ok(*device)
            })
            .collect()
    }
}
