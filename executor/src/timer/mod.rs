//! Delayed and periodic tasks: `submit_after`, `submit_at` and the
//! fixed-rate and fixed-delay schedules. The timer that holds them until
//! they are due is part of the scheduler (`scheduler/timer/`).

mod api;
mod periodic;
