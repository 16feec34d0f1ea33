//! A small seeded generator (SplitMix64): the same seed, the same scenarios.

#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        assert!(low <= high, "{low}..={high}");
        let span = (high - low) as u64 + 1;
        low + (self.next() % span) as i64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }

    /// An index chosen with the given weights.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut roll = self.next() % total;
        for (index, w) in weights.iter().enumerate() {
            if roll < *w {
                return index;
            }
            roll -= w;
        }
        weights.len() - 1
    }
}

/// A seed for scenario `index` of `preset` from the run's seed.
pub fn scenario_seed(seed: u64, preset: &str, index: usize) -> u64 {
    let mut h = seed ^ 0xCBF2_9CE4_8422_2325;
    for b in preset.bytes().chain((index as u64).to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    Rng::new(h).next()
}
