//! Sends signed beacons from one device to an oracle, as a wireless hotspot
//! would (each carrying the oracle's latest entropy), and prints the
//! oracle's answer: the README's operator walk through
//! uses it to put reports into an epoch. (The device side proper, a fleet of
//! every category with real proofs, is `depin-device`.)
//!
//! ```sh
//! cargo run -p depinkit-oracle --example beacons -- \
//!   --network ADDRESS --device-keypair device.json --count 5
//! ```

use clap::Parser;
use depinkit_reports::{Beacon, Body, Entropy, Key, Report, SignedReport, encode_batch};
use solana_sdk::signature::{Signer, read_keypair_file};

/// Signed beacons from one device to an oracle.
#[derive(Parser, Debug)]
struct Args {
    /// The oracle's API.
    #[arg(long, default_value = "http://127.0.0.1:8780")]
    oracle: String,
    /// The network's address.
    #[arg(long)]
    network: String,
    /// The device's keypair file (`depin device keygen`).
    #[arg(long)]
    device_keypair: std::path::PathBuf,
    /// How many beacons.
    #[arg(long, default_value_t = 5)]
    count: u8,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let fail = |message: String| -> ! {
        eprintln!("error: {message}");
        std::process::exit(2)
    };
    let network: solana_sdk::pubkey::Pubkey = args
        .network
        .parse()
        .unwrap_or_else(|_| fail(format!("{:?} is not an address", args.network)));
    let keypair = read_keypair_file(&args.device_keypair).unwrap_or_else(|e| {
        fail(format!(
            "cannot read {}: {e}",
            args.device_keypair.display()
        ))
    });
    let signing =
        ed25519_dalek::SigningKey::from_bytes(&keypair.to_bytes()[..32].try_into().unwrap());
    let base = args.oracle.trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let entropy: Entropy = match http.get(format!("{base}/v1/entropy")).send().await {
        Ok(response) if response.status().is_success() => response
            .json()
            .await
            .unwrap_or_else(|e| fail(format!("{base}/v1/entropy: {e}"))),
        Ok(response) => fail(format!("{base}/v1/entropy answered {}", response.status())),
        Err(e) => fail(format!("cannot reach {base}: {e}")),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let beacons: Vec<SignedReport> = (0..args.count)
        .map(|n| {
            Report {
                network: Key(network.to_bytes()),
                device: Key(keypair.pubkey().to_bytes()),
                timestamp_ms: now_ms + i64::from(n),
                body: Body::Beacon(Beacon {
                    entropy,
                    payload: [now_ms.to_le_bytes().as_slice(), &[n]].concat(),
                    frequency_hz: 868_100_000,
                    tx_power_ddbm: 140,
                    antenna_gain_ddbi: 30,
                }),
            }
            .sign(&signing)
        })
        .collect();
    let url = format!("{base}/v1/reports");
    let response = http
        .post(&url)
        .header("content-type", depinkit_reports::BINARY_CONTENT_TYPE)
        .body(encode_batch(&beacons))
        .send()
        .await
        .unwrap_or_else(|e| fail(format!("cannot reach {url}: {e}")));
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    println!("{status} {body}");
    if !status.is_success() {
        std::process::exit(1);
    }
}
