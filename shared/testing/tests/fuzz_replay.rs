//! The fuzz targets' oracles as an ordinary test: every committed seed of `fuzz/seeds/<target>/`
//! (every past crash among them), then a fixed-seed sample of mutations of those seeds. The
//! sample is the same on every run, so a failure here reproduces; finding *new* inputs is what
//! the coverage-guided `make fuzz` is for, and it checks the same oracles.
//!
//! Each target gets a harness of its own, so the outcome never depends on which test ran first.

use std::path::{Path, PathBuf};

use tokengate_testing::fuzz::{Harness, TARGETS};

/// Mutated inputs per target. Sized so the three targets together take seconds.
const SAMPLE: usize = 20_000;
/// The sample's seed: change it only together with a reason in the commit message.
const SAMPLE_SEED: u64 = 0x7e6b_9a7e;

fn seeds(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("seed entry").path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).expect("seed readable");
            (path, bytes)
        })
        .collect()
}

/// SplitMix64: a tiny deterministic generator, enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes a parser is likely to trip over.
const INTERESTING: &[u8] = b"\0\x01\x7f\x80\xff\"\\{}[],:.=-_+/ %\n";

/// One to eight of libFuzzer's simplest mutations: flip a bit, set an interesting byte, insert,
/// erase, duplicate a chunk, truncate.
fn mutate(rng: &mut Rng, mut data: Vec<u8>) -> Vec<u8> {
    for _ in 0..=rng.below(8) {
        let len = data.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                data.insert(i, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            _ => data.truncate(rng.below(len + 1)),
        }
    }
    data
}

fn replay(target: &str) {
    let oracle = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, oracle)| *oracle)
        .expect("a fuzz target of that name");
    let harness = Harness::new();
    let seeds = seeds(target);
    assert!(!seeds.is_empty(), "fuzz/seeds/{target}/ holds no seed");
    for (path, bytes) in &seeds {
        eprintln!("seed {}", path.display());
        oracle(&harness, bytes);
    }
    let mut rng = Rng(SAMPLE_SEED ^ target.len() as u64);
    for i in 0..SAMPLE {
        let (_, seed) = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed.clone());
        // On failure the panic message names the input, so it can become a seed.
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| oracle(&harness, &input)));
        if let Err(panic) = outcome {
            panic!(
                "{target}: sample {i} failed ({:?}); input as hex: {}",
                panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied()),
                input.iter().map(|b| format!("{b:02x}")).collect::<String>()
            );
        }
    }
}

#[test]
fn token_seeds_and_sample_pass_the_oracles() {
    replay("token");
}

#[test]
fn http_request_seeds_and_sample_pass_the_oracles() {
    replay("http_request");
}

#[test]
fn authorizer_event_seeds_and_sample_pass_the_oracles() {
    replay("authorizer_event");
}

#[test]
fn every_target_has_a_seed_directory() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fuzz/seeds")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut targets: Vec<String> = TARGETS.iter().map(|(n, _)| (*n).to_owned()).collect();
    targets.sort();
    assert_eq!(on_disk, targets);
}
