//! Seeded generators of customer histories from the models' own stories, for parameter-recovery
//! tests and benchmarks: a SplitMix64 generator, gamma (Marsaglia–Tsang) and beta variates, and
//! BG/NBD and Pareto/NBD purchase histories. Not cryptographic; the same seed gives the same
//! stream on every platform.

use crate::{BgNbd, ParetoNbd};

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny seeded 64-bit generator.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started from `seed`.
    #[must_use]
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on the open interval (0, 1) (53 random bits, never 0).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal by the Box–Muller transform.
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// Exponential with the given rate (mean 1/rate).
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// Gamma(shape, 1) by Marsaglia & Tsang (2000), with the U^(1/shape) boost for shape < 1.
    pub fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let boost = self.uniform().powf(1.0 / shape);
            return self.gamma(shape + 1.0) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let z = self.normal();
            let v = 1.0 + c * z;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }

    /// Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a);
        let y = self.gamma(b);
        x / (x + y)
    }
}

/// One BG/NBD customer observed for `age` time units after the first purchase: draws
/// λ ~ Gamma(r, α), p ~ Beta(a, b), then exponential inter-purchase times at rate λ, dropping out
/// with probability p after each repeat purchase (FHL 2005, section 3). Returns (x, t_x) and,
/// when `holdout` > 0, the number of repeat purchases in (age, age + holdout].
pub fn bgnbd_customer(m: &BgNbd, age: f64, holdout: f64, rng: &mut SplitMix64) -> (u32, f64, u32) {
    let lambda = rng.gamma(m.r) / m.alpha;
    let p = rng.beta(m.a, m.b);
    let (mut x, mut t_x, mut later) = (0u32, 0.0, 0u32);
    let mut t = 0.0;
    loop {
        t += rng.exponential(lambda);
        if t > age + holdout {
            break;
        }
        if t <= age {
            x += 1;
            t_x = t;
        } else {
            later += 1;
        }
        if rng.uniform() < p {
            break;
        }
    }
    (x, t_x, later)
}

/// One Pareto/NBD customer observed for `age`: λ ~ Gamma(r, α), μ ~ Gamma(s, β), lifetime
/// ~ Exponential(μ), purchases at rate λ while alive (SMC 1987). Returns (x, t_x).
pub fn pareto_nbd_customer(m: &ParetoNbd, age: f64, rng: &mut SplitMix64) -> (u32, f64) {
    let lambda = rng.gamma(m.r) / m.alpha;
    let mu = rng.gamma(m.s) / m.beta;
    let end = rng.exponential(mu).min(age);
    let (mut x, mut t_x) = (0u32, 0.0);
    let mut t = 0.0;
    loop {
        t += rng.exponential(lambda);
        if t > end {
            break;
        }
        x += 1;
        t_x = t;
    }
    (x, t_x)
}
