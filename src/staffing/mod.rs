//! Staffing: how many agents a queue needs (kpi-definitions.md §6).
//!
//! Pure functions only: no I/O, no clock. The `ccpulse erlang` calculator and
//! the live staffing gap both build on [`erlang`].

pub mod erlang;

pub use erlang::{
    asa_seconds, erlang_a, erlang_b, erlang_c, erlang_c_p_wait, estimate_patience_seconds,
    occupancy, offered_load, required_agents, required_agents_erlang_a, scheduled_agents,
    service_level, ErlangA, ErlangC, StaffingError, MIN_ABANDONS_FOR_PATIENCE,
};

#[cfg(test)]
mod tests;
