//! Deterministic hashing and a tiny random-number generator for the simulator.
//!
//! Everything synthetic (squads, transfers, chips, match events, names) is a pure function of the
//! seed and a few ids, so nothing has to be stored: a manager's squad is regenerated from
//! `(seed, entry id, gameweek)` whenever it is asked for. SplitMix64 is used for both the hash and
//! the generator: it is fast, has no state beyond one `u64`, and mixes well enough for simulation
//! (it is not, and need not be, cryptographic).

/// The SplitMix64 finaliser: a bijective mix of all 64 bits.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hashes a sequence of numbers into one; order matters (`hash(&[1, 2]) != hash(&[2, 1])`).
pub fn hash(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9e37_79b9_7f4a_7c15, |h, &p| {
        mix(h ^ mix(p.wrapping_add(0x632b_e59b_d9b4_e019)))
    })
}

/// Hashes a short label (a purpose such as `"lineup"`) into a number for [`hash`].
pub fn label(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is fully determined by `key`.
    pub fn new(key: u64) -> Self {
        Rng(mix(key))
    }

    /// A generator keyed by several numbers (see [`hash`]).
    pub fn keyed(parts: &[u64]) -> Self {
        Rng::new(hash(parts))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`); the multiply-shift bias is below 2⁻³² for the sizes used here.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A Poisson draw with mean `lambda` (Knuth's method; `lambda` is small here).
    pub fn poisson(&mut self, lambda: f64) -> u32 {
        let limit = (-lambda).exp();
        let mut k = 0;
        let mut p = self.unit();
        while p > limit && k < 12 {
            k += 1;
            p *= self.unit();
        }
        k
    }

    /// An index drawn with probability proportional to `weights` (all ≥ 0, not all 0).
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// `true` with probability `p` for the `n`-th event of a stream keyed by `key`: a stateless
/// Bernoulli draw, so fault rates are reproducible request by request.
pub fn bernoulli(key: u64, n: u64, p: f64) -> bool {
    p >= 1.0 || (p > 0.0 && Rng::keyed(&[key, n]).unit() < p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_gives_the_same_stream_and_other_keys_differ() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::keyed(&[7, 42]);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .map({
                let mut r = Rng::keyed(&[7, 42]);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::keyed(&[7, 43]).next_u64(), a[0]);
        assert_ne!(hash(&[1, 2]), hash(&[2, 1]));
    }

    #[test]
    fn draws_stay_in_range_and_are_roughly_uniform() {
        let mut r = Rng::new(1);
        let mut counts = [0u32; 10];
        for _ in 0..100_000 {
            let v = r.below(10) as usize;
            counts[v] += 1;
            let u = r.unit();
            assert!((0.0..1.0).contains(&u));
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn poisson_and_weighted_draws_have_the_expected_means() {
        let mut r = Rng::new(2);
        let n = 50_000;
        let mean = (0..n).map(|_| r.poisson(1.4) as f64).sum::<f64>() / n as f64;
        assert!((mean - 1.4).abs() < 0.05, "{mean}");
        let mut hits = [0u32; 3];
        for _ in 0..n {
            hits[r.weighted(&[1.0, 0.0, 3.0])] += 1;
        }
        assert_eq!(hits[1], 0);
        let ratio = f64::from(hits[2]) / f64::from(hits[0]);
        assert!((ratio - 3.0).abs() < 0.2, "{hits:?}");
    }

    #[test]
    fn bernoulli_is_reproducible_and_respects_the_extremes() {
        assert!((0..100).all(|n| bernoulli(5, n, 1.0)));
        assert!((0..100).all(|n| !bernoulli(5, n, 0.0)));
        let a: Vec<bool> = (0..50).map(|n| bernoulli(9, n, 0.3)).collect();
        let b: Vec<bool> = (0..50).map(|n| bernoulli(9, n, 0.3)).collect();
        assert_eq!(a, b);
        let hits = (0..10_000).filter(|&n| bernoulli(9, n, 0.3)).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
    }
}
