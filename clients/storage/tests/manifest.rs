//! The manifest: it round-trips as JSON, opens only with its owner's
//! secret, and an altered or foreign manifest is refused with the reason.

use depinkit_reports::{Hash32, Key};
use depinkit_storage::{Layout, Manifest, ManifestError, open, seal};

const OWNER: Key = Key([9; 32]);
const SECRET: [u8; 32] = [5; 32];

#[test]
fn the_owner_opens_the_file_from_the_manifest_and_nobody_else_does() {
    let file = b"the quarterly map tiles".repeat(1_000);
    let (sealed, shards, _) = seal(&file, Layout::default()).unwrap();
    let manifest = Manifest::new("tiles.bin", OWNER, &SECRET, &sealed);
    let json = manifest.to_json();
    let text = String::from_utf8(json.clone()).unwrap();
    let key_hex: String = sealed.key.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&key_hex), "the file key is not in the clear");

    let read = Manifest::from_json(&json).unwrap();
    assert_eq!(read, manifest);
    let unsealed = read.unseal(&SECRET).unwrap();
    assert_eq!(unsealed, sealed);
    let shards: Vec<_> = shards.into_iter().map(Some).collect();
    assert_eq!(open(&unsealed, &shards).unwrap().0, file);

    assert_eq!(
        read.unseal(&[6; 32]).unwrap_err(),
        ManifestError::NotOwner(OWNER)
    );
    let mut altered = read.clone();
    altered.file_hash = Hash32::sha256(b"another");
    assert_eq!(
        altered.unseal(&SECRET).unwrap_err(),
        ManifestError::NotOwner(OWNER)
    );
}

#[test]
fn manifests_of_another_version_or_shape_are_refused() {
    let (sealed, _, _) = seal(b"x", Layout::default()).unwrap();
    let manifest = Manifest::new("x", OWNER, &SECRET, &sealed);
    let mut newer = manifest.clone();
    newer.version = 2;
    assert!(matches!(
        Manifest::from_json(&newer.to_json()),
        Err(ManifestError::Format(why)) if why.contains("version 2")
    ));
    let mut short = manifest.clone();
    short.shards.pop();
    assert!(matches!(
        Manifest::from_json(&short.to_json()),
        Err(ManifestError::Format(why)) if why.contains("5 shards")
    ));
    assert!(matches!(
        Manifest::from_json(b"{}"),
        Err(ManifestError::Format(_))
    ));
}
