//! Erlang C and Erlang A (M/M/N and M/M/N+M) staffing formulas, kpi-definitions.md §6.
//!
//! # Numerics
//! Nothing here computes `A^N` or `N!`: Erlang B comes from the stable recursion
//! `B(n) = A·B(n−1) / (n + A·B(n−1))` (every step is a convex combination, so
//! relative errors do not grow), and Erlang C is derived from it. Erlang A sums
//! its birth–death chain relative to the state `n = N`, rescaling as it goes, and
//! combines the parts in log space, so loads of thousands of Erlangs stay finite.
//!
//! # Conventions
//! Loads are in Erlangs, times in seconds. For Erlang C with `N ≤ A` the queue is
//! unstable: `P_wait = 1`, service level 0, ASA `None` (infinite). No function
//! returns NaN or panics on input; invalid inputs give a [`StaffingError`].

use thiserror::Error;

/// Largest offered load accepted (Erlangs): keeps every search and sum bounded.
pub const MAX_LOAD: f64 = 1.0e6;

/// Fewest abandons from which [`estimate_patience_seconds`] gives an estimate
/// (below this its relative standard error, about `1/√k`, exceeds 30 %).
pub const MIN_ABANDONS_FOR_PATIENCE: u64 = 10;

/// Comparison slack so that a service level equal to the target up to rounding counts as met.
const EPS: f64 = 1e-12;

/// Relative size below which the Erlang A queue tail is truncated.
const TAIL_EPS: f64 = 1e-16;

/// Bound on the Erlang A queue-length terms summed for one staffing level.
const MAX_TAIL_TERMS: u64 = 20_000_000;

/// Extra agents searched past the first candidate before giving up.
const SEARCH_LIMIT: u32 = 10_000_000;

/// Why a staffing computation could not be done.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StaffingError {
    /// An input is out of its domain (negative, NaN, infinite, target ≥ 1, …).
    #[error("{name} must be {expected}, got {value}")]
    InvalidInput {
        /// Which input (`load`, `aht`, `target`, …).
        name: &'static str,
        /// The domain it must lie in, in words.
        expected: &'static str,
        /// The value given.
        value: f64,
    },
    /// No staffing level up to `limit` agents meets the target and occupancy cap.
    #[error("no staffing level up to {limit} agents meets the target")]
    NoSolution {
        /// The largest number of agents tried.
        limit: u64,
    },
    /// The Erlang A queue is so long (patience very long against the shortfall of
    /// agents) that its distribution was not summed within the term budget.
    #[error("Erlang A queue distribution with {agents} agents did not converge (patience too long for this load)")]
    NotConverged {
        /// The number of agents being evaluated.
        agents: u32,
    },
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, StaffingError>;

fn invalid(name: &'static str, expected: &'static str, value: f64) -> StaffingError {
    StaffingError::InvalidInput {
        name,
        expected,
        value,
    }
}

fn check_load(load: f64) -> Result<f64> {
    if load.is_finite() && (0.0..=MAX_LOAD).contains(&load) {
        Ok(load)
    } else {
        Err(invalid("load", "between 0 and 1e6 Erlangs", load))
    }
}

fn check_positive(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(invalid(name, "a finite number > 0", v))
    }
}

fn check_non_negative(name: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(invalid(name, "a finite number ≥ 0", v))
    }
}

fn check_target(target: f64) -> Result<f64> {
    if target.is_finite() && target > 0.0 && target < 1.0 {
        Ok(target)
    } else {
        Err(invalid("target service level", "in (0, 1)", target))
    }
}

fn check_max_occupancy(cap: Option<f64>) -> Result<f64> {
    match cap {
        None => Ok(1.0),
        Some(c) if c.is_finite() && c > 0.0 && c <= 1.0 => Ok(c),
        Some(c) => Err(invalid("max occupancy", "in (0, 1]", c)),
    }
}

/// Offered load `A = λ·AHT` in Erlangs from `calls` arriving per `period_secs`.
pub fn offered_load(calls: f64, period_secs: f64, aht_secs: f64) -> Result<f64> {
    let calls = check_non_negative("calls", calls)?;
    let period = check_positive("period", period_secs)?;
    let aht = check_positive("aht", aht_secs)?;
    check_load(calls / period * aht)
}

/// Erlang B blocking probability by the stable recursion; inputs already checked.
fn erlang_b_unchecked(agents: u32, load: f64) -> f64 {
    let mut b = 1.0_f64;
    for n in 1..=agents {
        let ab = load * b;
        b = ab / (f64::from(n) + ab);
        if b == 0.0 {
            // Underflow: stays 0 for every larger n, so stop early (agents may be huge).
            break;
        }
    }
    b
}

/// Erlang B: the probability that a contact is blocked with `agents` servers and no queue.
pub fn erlang_b(agents: u32, load: f64) -> Result<f64> {
    Ok(erlang_b_unchecked(agents, check_load(load)?))
}

/// Erlang C `P_wait` from Erlang B `b` (`N·B / (N − A(1−B))`; 1 when `N ≤ A`).
fn p_wait_from_b(agents: u32, load: f64, b: f64) -> f64 {
    let n = f64::from(agents);
    if n <= load {
        return 1.0;
    }
    (n * b / (n - load * (1.0 - b))).clamp(0.0, 1.0)
}

/// Erlang C probability that a contact has to wait (1 when `agents ≤ load`).
pub fn erlang_c_p_wait(agents: u32, load: f64) -> Result<f64> {
    let load = check_load(load)?;
    Ok(p_wait_from_b(
        agents,
        load,
        erlang_b_unchecked(agents, load),
    ))
}

/// Erlang C results for one staffing level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangC {
    /// Number of agents `N`.
    pub agents: u32,
    /// Probability that a contact waits at all.
    pub p_wait: f64,
    /// Fraction of contacts answered within the threshold.
    pub service_level: f64,
    /// Average speed of answer in seconds; `None` (infinite) when `N ≤ A`.
    pub asa_seconds: Option<f64>,
    /// Agent occupancy `A/N`, capped at 1 for an overloaded queue; `None` with 0 agents.
    pub occupancy: Option<f64>,
}

fn erlang_c_from_b(agents: u32, load: f64, aht: f64, threshold: f64, b: f64) -> ErlangC {
    let n = f64::from(agents);
    let p_wait = p_wait_from_b(agents, load, b);
    let (service_level, asa_seconds) = if n <= load {
        (0.0, None)
    } else {
        let sl = 1.0 - p_wait * (-(n - load) * threshold / aht).exp();
        (sl.clamp(0.0, 1.0), Some(p_wait * aht / (n - load)))
    };
    ErlangC {
        agents,
        p_wait,
        service_level,
        asa_seconds,
        occupancy: occupancy_unchecked(agents, load),
    }
}

fn occupancy_unchecked(agents: u32, load: f64) -> Option<f64> {
    (agents > 0).then(|| (load / f64::from(agents)).min(1.0))
}

/// Erlang C metrics for `agents` agents, load `load`, handle time `aht_secs`, SL threshold `threshold_secs`.
pub fn erlang_c(agents: u32, load: f64, aht_secs: f64, threshold_secs: f64) -> Result<ErlangC> {
    let load = check_load(load)?;
    let aht = check_positive("aht", aht_secs)?;
    let threshold = check_non_negative("threshold", threshold_secs)?;
    Ok(erlang_c_from_b(
        agents,
        load,
        aht,
        threshold,
        erlang_b_unchecked(agents, load),
    ))
}

/// Erlang C service level `1 − P_wait·e^(−(N−A)·T/AHT)` (0 when `N ≤ A`).
pub fn service_level(agents: u32, load: f64, aht_secs: f64, threshold_secs: f64) -> Result<f64> {
    Ok(erlang_c(agents, load, aht_secs, threshold_secs)?.service_level)
}

/// Erlang C average speed of answer `P_wait·AHT/(N−A)` in seconds; `None` (infinite) when `N ≤ A`.
pub fn asa_seconds(agents: u32, load: f64, aht_secs: f64) -> Result<Option<f64>> {
    Ok(erlang_c(agents, load, aht_secs, 0.0)?.asa_seconds)
}

/// Occupancy `A/N` (capped at 1 when overloaded); `None` with no agents.
pub fn occupancy(agents: u32, load: f64) -> Result<Option<f64>> {
    Ok(occupancy_unchecked(agents, check_load(load)?))
}

/// Smallest number of agents for the occupancy cap alone: `⌈A / cap⌉` (up to rounding).
fn min_agents_for_cap(load: f64, cap: f64) -> f64 {
    let x = load / cap;
    let r = x.round();
    if (x - r).abs() <= 1e-9 * x.max(1.0) {
        r
    } else {
        x.ceil()
    }
}

/// Erlang C required agents: the smallest `N > A` whose service level reaches
/// `target_sl` within `threshold_secs` and whose occupancy stays within `max_occupancy`.
pub fn required_agents(
    load: f64,
    aht_secs: f64,
    target_sl: f64,
    threshold_secs: f64,
    max_occupancy: Option<f64>,
) -> Result<u32> {
    let load = check_load(load)?;
    let aht = check_positive("aht", aht_secs)?;
    let target = check_target(target_sl)?;
    let threshold = check_non_negative("threshold", threshold_secs)?;
    let cap = check_max_occupancy(max_occupancy)?;

    let first = (load.floor() + 1.0).max(min_agents_for_cap(load, cap));
    // load ≤ 1e6 and cap > 0; a tiny cap can still push `first` past u32.
    if first > f64::from(u32::MAX - SEARCH_LIMIT) {
        return Err(StaffingError::NoSolution {
            limit: u64::from(u32::MAX),
        });
    }
    let first = first as u32;
    let last = first + SEARCH_LIMIT;
    let mut b = erlang_b_unchecked(first, load);
    let mut n = first;
    loop {
        let m = erlang_c_from_b(n, load, aht, threshold, b);
        let occ_ok = m.occupancy.is_some_and(|o| o <= cap + EPS);
        if m.service_level >= target - EPS && occ_ok {
            return Ok(n);
        }
        if n >= last {
            return Err(StaffingError::NoSolution {
                limit: u64::from(n),
            });
        }
        n += 1;
        let ab = load * b;
        b = ab / (f64::from(n) + ab);
    }
}

/// Agents to schedule so that `required` are on the phones after shrinkage `s`: `⌈N/(1−s)⌉`.
pub fn scheduled_agents(required: u32, shrinkage: f64) -> Result<u32> {
    if !(shrinkage.is_finite() && (0.0..1.0).contains(&shrinkage)) {
        return Err(invalid("shrinkage", "in [0, 1)", shrinkage));
    }
    let x = f64::from(required) / (1.0 - shrinkage);
    // 14 / (1 − 0.3) is 20.000000000000004 in f64: round values that are whole up to rounding.
    let r = x.round();
    let n = if (x - r).abs() <= 1e-9 * x.max(1.0) {
        r
    } else {
        x.ceil()
    };
    if n > f64::from(u32::MAX) {
        return Err(StaffingError::NoSolution {
            limit: u64::from(u32::MAX),
        });
    }
    Ok(n as u32)
}

/// Erlang A (M/M/N+M, exponential patience) results for one staffing level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErlangA {
    /// Number of agents `N`.
    pub agents: u32,
    /// Probability that an arriving contact finds all agents busy and waits.
    pub p_wait: f64,
    /// Probability that a contact abandons, `θ·E[queue]/λ`.
    pub p_abandon: f64,
    /// Mean wait over all arrivals (answered and abandoned), `E[queue]/λ`, seconds.
    pub avg_wait_seconds: f64,
    /// Average speed of answer: mean wait of answered contacts, seconds; `None` if none are answered.
    pub asa_seconds: Option<f64>,
    /// Fraction of all arrivals answered within the threshold (abandons count against,
    /// the `cisco_type2` preset); see [`erlang_a`] for the formula.
    pub service_level: f64,
    /// Occupancy `λ·(1 − P(abandon)) / (N·μ)`; `None` with 0 agents.
    pub occupancy: Option<f64>,
}

/// `ln(e^x + e^y)` without overflow.
fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// Erlang A metrics for `agents` agents, load `load`, mean handle time `aht_secs`,
/// mean patience `patience_secs` (`1/θ`) and SL threshold `threshold_secs`.
///
/// The birth–death chain is `π_n ∝ A^n/n!` for `n ≤ N` and `π_{n}/π_{n−1} = λ/(Nμ + (n−N)θ)`
/// above; with `π_N = 1` the states below `N` sum to `(1 − B)/B` (Erlang B), and the queue
/// tail is summed term by term (rescaled to avoid overflow) until the remainder, bounded by
/// a geometric series, is below 1e-16 relative.
///
/// Service level (exact, not an approximation): an arrival that finds `n < N` is answered
/// at once; one that finds `j ≥ 0` waiting ahead has an offered wait `V`, a sum of
/// exponentials with rates `Nμ + kθ`, `k = 0..=j` (service completions plus abandons ahead),
/// and is answered within `T` iff `V ≤ T` and its patience exceeds `V`:
/// `P = E[e^{−θV}; V ≤ T] = Nμ/(Nμ+(j+1)θ) · (1 − I_x(Nμ/θ + 1, j+1))`, `x = e^{−θT}`,
/// by exponential tilting (the tilted rates `Nμ + (k+1)θ` give `e^{−θV'}` a
/// Beta(Nμ/θ + 1, j+1) law, a product of independent Beta(c+k, 1) variables) and the
/// negative-binomial form of the regularised incomplete beta `I_x(a, m)` for integer `m`.
/// Derived for ccpulse from the M/M/N+M model of Garnett, Mandelbaum & Reiman (2002),
/// "Designing a call center with impatient customers", MSOM 4(3); it reduces to the
/// Erlang C service level as θ → 0 and is checked in the tests against an independent
/// uniformisation of the tagged contact's chain. ASA of answered contacts uses
/// `E[V·1{answered}] = Nμ/(Nμ+(j+1)θ) · Σ_{k=1}^{j+1} 1/(Nμ + kθ)` from the same tilting.
pub fn erlang_a(
    agents: u32,
    load: f64,
    aht_secs: f64,
    patience_secs: f64,
    threshold_secs: f64,
) -> Result<ErlangA> {
    let load = check_load(load)?;
    let aht = check_positive("aht", aht_secs)?;
    let patience = check_positive("patience", patience_secs)?;
    let threshold = check_non_negative("threshold", threshold_secs)?;
    erlang_a_unchecked(agents, load, aht, patience, threshold)
}

fn erlang_a_unchecked(
    agents: u32,
    load: f64,
    aht: f64,
    patience: f64,
    threshold: f64,
) -> Result<ErlangA> {
    let n = f64::from(agents);
    let mu = 1.0 / aht;
    let lambda = load * mu;
    let theta = 1.0 / patience;
    let n_mu = n * mu;

    let b = erlang_b_unchecked(agents, load);
    if b == 0.0 {
        // π_N underflows against the states below N: no queue to speak of.
        return Ok(ErlangA {
            agents,
            p_wait: 0.0,
            p_abandon: 0.0,
            avg_wait_seconds: 0.0,
            asa_seconds: Some(0.0),
            service_level: 1.0,
            occupancy: occupancy_unchecked(agents, load),
        });
    }
    // ln Σ_{n<N} π_n with π_N = 1: (1 − B)/B; −∞ when N = 0 (B = 1).
    let ln_below = (-b).ln_1p() - b.ln();

    // Negative-binomial terms of I_x(a, j+1), in log space (x^a may underflow).
    let a_nb = n_mu / theta + 1.0;
    let ln_1mx = (-(-theta * threshold).exp_m1()).ln(); // ln(1 − e^{−θT}); −∞ when T = 0
    let mut ln_nb = -a_nb * theta * threshold; // ln x^a
    let mut cdf = 0.0_f64; // I_x(a, j+1)
    let mut harmonic = 0.0_f64; // Σ_{k=1}^{j+1} 1/(Nμ + kθ)

    // Tail sums relative to π_N = 1, all scaled by e^{-ln_scale}.
    let mut term = 1.0_f64; // π_{N+j}
    let mut ln_scale = 0.0_f64;
    let (mut tail, mut queue, mut sl_queued, mut answered_queued, mut wait_answered) =
        (0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64, 0.0_f64);
    let mut j: u64 = 0;
    loop {
        let jf = j as f64;
        cdf += ln_nb.exp();
        ln_nb += ((a_nb + jf) / (jf + 1.0)).ln() + ln_1mx;
        let rate_next = n_mu + (jf + 1.0) * theta;
        harmonic += 1.0 / rate_next;
        let p_answered = n_mu / rate_next;

        tail += term;
        queue += jf * term;
        sl_queued += term * p_answered * (1.0 - cdf).max(0.0);
        answered_queued += term * p_answered;
        wait_answered += term * p_answered * harmonic;

        let r = lambda / rate_next; // π_{N+j+1} / π_{N+j}
        if r < 1.0 {
            // Ratios only fall from here on, so the rest is bounded by a geometric series.
            let g = r / (1.0 - r);
            let rest = term * g;
            let rest_queue = term * (jf * g + g / (1.0 - r));
            if rest <= TAIL_EPS * tail && rest_queue <= TAIL_EPS * queue {
                break;
            }
        }
        term *= r;
        j += 1;
        if term > 1e250 {
            let s = 1e-250;
            term *= s;
            tail *= s;
            queue *= s;
            sl_queued *= s;
            answered_queued *= s;
            wait_answered *= s;
            ln_scale += 250.0 * std::f64::consts::LN_10;
        }
        if j > MAX_TAIL_TERMS {
            return Err(StaffingError::NotConverged { agents });
        }
    }

    let ln_below_scaled = ln_below - ln_scale;
    let ln_z = log_add_exp(ln_below_scaled, tail.ln());
    let frac = |x: f64| (x.ln() - ln_z).exp();
    let p_below = (ln_below_scaled - ln_z).exp();

    let p_wait = frac(tail).clamp(0.0, 1.0);
    let mean_queue = frac(queue);
    let (p_abandon, avg_wait_seconds) = if lambda > 0.0 {
        (
            (theta * mean_queue / lambda).clamp(0.0, 1.0),
            mean_queue / lambda,
        )
    } else {
        (0.0, 0.0)
    };
    let p_answered = (p_below + frac(answered_queued)).clamp(0.0, 1.0);
    let service_level = (p_below + frac(sl_queued)).clamp(0.0, 1.0);
    let asa_seconds = (p_answered > 0.0).then(|| frac(wait_answered) / p_answered);
    let occupancy = (agents > 0).then(|| (load * (1.0 - p_abandon) / n).clamp(0.0, 1.0));
    Ok(ErlangA {
        agents,
        p_wait,
        p_abandon,
        avg_wait_seconds,
        asa_seconds,
        service_level,
        occupancy,
    })
}

/// Erlang A required agents: the smallest `N` whose service level reaches `target_sl`
/// and whose occupancy stays within `max_occupancy` (may be below `A`: abandons shed load).
///
/// Searches by doubling then bisection, relying on the service level rising and the
/// occupancy falling with `N` (property-tested).
pub fn required_agents_erlang_a(
    load: f64,
    aht_secs: f64,
    patience_secs: f64,
    target_sl: f64,
    threshold_secs: f64,
    max_occupancy: Option<f64>,
) -> Result<u32> {
    let load = check_load(load)?;
    let aht = check_positive("aht", aht_secs)?;
    let patience = check_positive("patience", patience_secs)?;
    let target = check_target(target_sl)?;
    let threshold = check_non_negative("threshold", threshold_secs)?;
    let cap = check_max_occupancy(max_occupancy)?;
    let meets = |agents: u32| -> Result<bool> {
        let m = erlang_a_unchecked(agents, load, aht, patience, threshold)?;
        Ok(m.service_level >= target - EPS && m.occupancy.is_some_and(|o| o <= cap + EPS))
    };
    // N = 0 never meets a target > 0.
    let mut fail: u32 = 0;
    let mut ok: u32 = (load.ceil() as u32).max(1);
    while !meets(ok)? {
        fail = ok;
        ok = ok.checked_mul(2).ok_or(StaffingError::NoSolution {
            limit: u64::from(ok),
        })?;
    }
    while ok - fail > 1 {
        let mid = fail + (ok - fail) / 2;
        if meets(mid)? {
            ok = mid;
        } else {
            fail = mid;
        }
    }
    Ok(ok)
}

/// Mean patience (seconds) from a queue's measured waits: the maximum-likelihood estimate
/// for exponential patience with censoring (Brown et al. 2005, JASA 100(469)), total
/// waiting time of all contacts divided by the number that abandoned.
///
/// `wait_sum_not_abandoned` is the summed wait of contacts whose patience was not seen to
/// run out (answered, exited): censored observations. `None` with fewer than
/// [`MIN_ABANDONS_FOR_PATIENCE`] abandons or invalid sums.
pub fn estimate_patience_seconds(
    wait_sum_not_abandoned: f64,
    wait_sum_abandoned: f64,
    abandoned: u64,
) -> Option<f64> {
    let valid = |x: f64| x.is_finite() && x >= 0.0;
    if abandoned < MIN_ABANDONS_FOR_PATIENCE
        || !valid(wait_sum_not_abandoned)
        || !valid(wait_sum_abandoned)
    {
        return None;
    }
    let total = wait_sum_not_abandoned + wait_sum_abandoned;
    (total > 0.0).then(|| total / abandoned as f64)
}
