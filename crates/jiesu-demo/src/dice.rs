//! The one source of chance: a seeded, portable generator (xoshiro256++ by name, so the same
//! seed gives the same year on every platform and rand release), with the few draws the demo
//! needs built on its raw 64-bit output.

use chrono::Duration;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

/// A seeded random source.
#[derive(Debug, Clone)]
pub(crate) struct Dice(Xoshiro256PlusPlus);

impl Dice {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Dice {
        Dice(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// An independent generator for item `n` of stream `stream` under `seed` (per case, per unit…),
    /// so that one item's draws never shift another's.
    pub fn derive(seed: u64, stream: u64, n: u64) -> Dice {
        Dice::new(mix(seed ^ mix(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(n))))
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in [lo, hi).
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo + 1) as u64;
        lo + (self.0.next_u64() % span) as i64
    }

    /// Uniform index below `n` (n > 0).
    pub fn index(&mut self, n: usize) -> usize {
        (self.0.next_u64() % n.max(1) as u64) as usize
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// One of a non-empty list of texts.
    pub fn text(&mut self, items: &[&'static str]) -> &'static str {
        items[self.index(items.len())]
    }

    /// An index drawn with the given non-negative weights (the last index if all are zero).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// A duration uniform between `lo` and `hi` minutes, with random seconds (never whole
    /// minutes, so no planned event falls on a sweep's round instant).
    pub fn minutes(&mut self, lo: f64, hi: f64) -> Duration {
        let m = self.float(lo, hi).max(0.0);
        Duration::seconds((m * 60.0) as i64 / 60 * 60 + self.int(1, 59))
    }

    /// A duration of roughly `median` minutes, skewed right (log-normal-ish with spread `spread`,
    /// e.g. 0.6), clamped to [lo, hi] minutes.
    pub fn skewed(&mut self, median: f64, spread: f64, lo: f64, hi: f64) -> Duration {
        // Sum of three uniforms approximates a normal well enough for durations.
        let z = (self.unit() + self.unit() + self.unit() - 1.5) * 2.0;
        let m = (median * (z * spread).exp()).clamp(lo, hi);
        self.minutes(m, m + 1.0)
    }
}

/// SplitMix64's finaliser: spreads the bits of a seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws() {
        let (mut a, mut b) = (Dice::derive(7, 1, 2), Dice::derive(7, 1, 2));
        for _ in 0..100 {
            assert_eq!(a.int(0, 1000), b.int(0, 1000));
        }
        let mut c = Dice::derive(7, 1, 3);
        let draws: Vec<i64> = (0..10).map(|_| c.int(0, 1_000_000)).collect();
        let mut a = Dice::derive(7, 1, 2);
        assert_ne!(draws, (0..10).map(|_| a.int(0, 1_000_000)).collect::<Vec<_>>());
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut d = Dice::new(1);
        for _ in 0..1000 {
            assert_ne!(d.weighted(&[1.0, 0.0, 2.0]), 1);
        }
    }
}
