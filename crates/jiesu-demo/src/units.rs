//! How well each responsible unit works, month by month.
//!
//! Every unit gets a base quality from the seed: how often it replies late, how often the citizen
//! says the problem is solved, how reliably it contacts the citizen, and how fast it works. Three
//! street offices and four departments or utilities are systematically slower and less effective.
//! Each month moves every unit a little (so the monthly rankings change), and the seasons load some
//! utilities: the heating company in the first cold weeks, drainage in the rainy season.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::UnitKind;

use crate::dice::Dice;

/// Stream number for unit draws (see [`Dice::derive`]).
const STREAM: u64 = 0x756E_6974;

/// A unit's working quality in some month.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quality {
    /// Probability of replying after the deadline.
    pub late: f64,
    /// Probability that the citizen says the problem is solved.
    pub solve: f64,
    /// Probability that the unit contacts the citizen.
    pub contact: f64,
    /// Multiplier on handling times (1 = typical, 1.6 = slow).
    pub pace: f64,
}

/// The qualities of all units under one seed.
#[derive(Debug, Clone)]
pub(crate) struct Units {
    seed: u64,
    codes: Vec<String>,
    base: Vec<Quality>,
}

impl Units {
    /// Draws every unit's base quality.
    pub fn new(seed: u64, catalog: &Catalog) -> Units {
        let codes: Vec<String> = catalog.units().iter().map(|u| u.code.clone()).collect();
        let mut d = Dice::derive(seed, STREAM, 0);
        let of_kind = |k: &[UnitKind]| -> Vec<usize> {
            catalog.units().iter().enumerate().filter(|(_, u)| k.contains(&u.kind)).map(|(i, _)| i).collect()
        };
        let mut slow = Vec::new();
        for (pool, n) in [(of_kind(&[UnitKind::Street]), 3), (of_kind(&[UnitKind::Department, UnitKind::Utility]), 4)] {
            let mut pool = pool;
            for _ in 0..n.min(pool.len()) {
                let i = d.index(pool.len());
                slow.push(pool.swap_remove(i));
            }
        }
        let base = (0..codes.len())
            .map(|i| {
                if slow.contains(&i) {
                    Quality {
                        late: d.float(0.14, 0.24),
                        solve: d.float(0.72, 0.84),
                        contact: d.float(0.85, 0.93),
                        pace: d.float(1.4, 1.9),
                    }
                } else {
                    Quality {
                        late: d.float(0.02, 0.07),
                        solve: d.float(0.82, 0.95),
                        contact: d.float(0.93, 0.99),
                        pace: d.float(0.7, 1.2),
                    }
                }
            })
            .collect();
        Units { seed, codes, base }
    }

    /// The quality of `unit` at instant `at` (its local month and season).
    pub fn at(&self, unit: &str, at: DateTime<Utc>, tz: Tz) -> Quality {
        let Some(i) = self.codes.iter().position(|c| c == unit) else {
            return Quality { late: 0.1, solve: 0.85, contact: 0.95, pace: 1.0 };
        };
        let local = at.with_timezone(&tz);
        let month = local.year() as u64 * 12 + u64::from(local.month());
        let mut d = Dice::derive(self.seed, STREAM + 1, month * 1000 + i as u64);
        let b = self.base[i];
        let mut q = Quality {
            late: b.late + d.float(-0.03, 0.06),
            solve: b.solve + d.float(-0.05, 0.04),
            contact: b.contact + d.float(-0.03, 0.02),
            pace: b.pace * d.float(0.85, 1.2),
        };
        let (m, day) = (local.month(), local.day());
        let overloaded = match unit {
            "U04" => (m == 11 && day >= 15) || m == 12,
            "U05" => m == 7 || m == 8,
            _ => false,
        };
        if overloaded {
            q.late *= 1.8;
            q.solve -= 0.05;
            q.pace *= 1.3;
        }
        q.late = q.late.clamp(0.0, 0.6);
        q.solve = q.solve.clamp(0.5, 0.99);
        q.contact = q.contact.clamp(0.6, 1.0);
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn some_units_are_slow_and_months_differ() {
        let catalog = Catalog::dongcheng();
        let units = Units::new(2026, &catalog);
        let tz = chrono_tz::Asia::Shanghai;
        let may = Utc.with_ymd_and_hms(2026, 5, 10, 2, 0, 0).unwrap();
        let june = Utc.with_ymd_and_hms(2026, 6, 10, 2, 0, 0).unwrap();
        assert_eq!(units.base.iter().filter(|q| q.late > 0.13).count(), 7);
        assert_ne!(units.at("S001", may, tz), units.at("S001", june, tz));
        assert_eq!(units.at("S001", may, tz), Units::new(2026, &catalog).at("S001", may, tz));
    }
}
