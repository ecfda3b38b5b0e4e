//! Reproducible pseudo-random numbers for tests, without a dependency: xorshift64*
//! (Vigna), so that a failing case reproduces from its seed.

/// An xorshift64* generator. A zero seed is replaced (the generator would stay at zero).
#[derive(Debug, Clone)]
pub struct Numbers(u64);

impl Numbers {
    /// A generator from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// In [0, `n`) (`n` > 0; slightly biased for huge `n`, which tests do not mind).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::Numbers;

    #[test]
    fn reproducible_and_in_range() {
        let (mut a, mut b) = (Numbers::new(3), Numbers::new(3));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        assert!(xs.iter().all(|x| *x == b.next_u64()));
        assert!(xs.windows(2).all(|w| w[0] != w[1]));
        let mut z = Numbers::new(0);
        assert_ne!(z.next_u64(), 0);
        assert!((0..1000).all(|_| z.below(7) < 7 && (0.0..1.0).contains(&z.unit())));
    }
}
