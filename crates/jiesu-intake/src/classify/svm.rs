//! A linear SVM solver: L2-regularised, squared-hinge (L2-loss) SVM trained in the dual by
//! coordinate descent with shrinking — the algorithm of liblinear's default solver
//! (`L2R_L2LOSS_SVC_DUAL`; Hsieh et al., ICML 2008), written out in Rust.
//!
//! The bias is learnt as the weight of an extra constant feature of value 1 (as liblinear's
//! `-B 1`). Each sample carries its own cost `C_i`, which gives class weighting.

/// A sparse row: `(index, value)` pairs.
pub type Row = [(u32, f32)];

/// Options of one binary problem.
#[derive(Debug, Clone, Copy)]
pub struct SolverOptions {
    /// Stopping tolerance on the projected-gradient gap (liblinear's `-e`, default 0.1).
    pub eps: f32,
    /// Maximum passes over the data.
    pub max_iter: usize,
    /// Seed of the visiting order.
    pub seed: u64,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions { eps: 0.1, max_iter: 1000, seed: 1 }
    }
}

/// A small deterministic RNG (xorshift64*), for the visiting order.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value).
    pub fn new(seed: u64) -> Self {
        Rng(super::features::mix64(seed ^ 0x2545_F491_4F6C_DD1D) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform integer below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// Trains one binary problem. `y[i]` is +1 or -1, `cost[i]` the sample's C.
/// Returns the weights (`dim` of them) followed by the bias, and the number of passes.
pub fn train_binary(rows: &[&Row], y: &[f32], cost: &[f32], dim: usize, opts: &SolverOptions) -> (Vec<f32>, usize) {
    let l = rows.len();
    let mut w = vec![0f32; dim + 1];
    let mut alpha = vec![0f32; l];
    let diag: Vec<f32> = cost.iter().map(|c| 0.5 / c).collect();
    let qd: Vec<f32> =
        rows.iter().zip(&diag).map(|(r, d)| r.iter().map(|x| x.1 * x.1).sum::<f32>() + 1.0 + d).collect();
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let mut rng = Rng::new(opts.seed);
    let mut pg_max_old = f32::INFINITY;
    let mut iter = 0;
    while iter < opts.max_iter {
        let (mut pg_max, mut pg_min) = (f32::NEG_INFINITY, f32::INFINITY);
        for s in 0..active {
            let j = s + rng.below(active - s);
            index.swap(s, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let row = rows[i];
            let yi = y[i];
            let mut dot = w[dim];
            for &(k, v) in row {
                dot += w[k as usize] * v;
            }
            let g = yi * dot - 1.0 + alpha[i] * diag[i];
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (old - g / qd[i]).max(0.0);
                let d = (alpha[i] - old) * yi;
                for &(k, v) in row {
                    w[k as usize] += d * v;
                }
                w[dim] += d;
            }
            s += 1;
        }
        iter += 1;
        if pg_max - pg_min <= opts.eps {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f32::INFINITY;
            continue;
        }
        pg_max_old = if pg_max <= 0.0 { f32::INFINITY } else { pg_max };
    }
    (w, iter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_a_toy_problem() {
        let data: Vec<Vec<(u32, f32)>> =
            vec![vec![(0, 1.0)], vec![(0, 0.9), (2, 0.1)], vec![(1, 1.0)], vec![(1, 0.8), (2, 0.2)]];
        let rows: Vec<&Row> = data.iter().map(|r| r.as_slice()).collect();
        let y = [1.0, 1.0, -1.0, -1.0];
        let (w, _) = train_binary(&rows, &y, &[1.0; 4], 3, &SolverOptions::default());
        for (r, yi) in rows.iter().zip(y) {
            let s: f32 = w[3] + r.iter().map(|(k, v)| w[*k as usize] * v).sum::<f32>();
            assert!(s * yi > 0.0, "{w:?}");
        }
    }
}
