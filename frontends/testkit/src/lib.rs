//! The runtime conformance kit: what every [`Runtime`] must do, written once and run against
//! each of portline-std, portline-mio and portline-smol, in process, on loopback sockets.
//!
//! A case is a generic function over the runtime, given the runtime's constructor with a
//! [`Shutdown`] of the test's own (no signal handlers). A frontend runs every case with one
//! line in its `tests/conformance.rs`:
//!
//! ```ignore
//! portline_testkit::conformance!(portline_mio::MioRuntime::with_shutdown);
//! ```
//!
//! and the cases that count the whole process (descriptors, signals, a binary under a small
//! `ulimit -n`) from test binaries of their own ([`process`]).
//!
//! - [`app`]: the test sessions (a line echo that can stream a large body at the reader's
//!   pace, with counters) and services;
//! - [`harness`]: a server of any runtime on a thread, stopped by the test, and bounded waits;
//! - [`cases`]: the cases.

#![deny(missing_docs)]

pub mod app;
pub mod cases;
pub mod harness;
pub mod process;

pub use portline_common::{Runtime, Shutdown};

/// How a case makes the runtime under test: `MioRuntime::with_shutdown` and its peers.
pub type Make<R> = fn(Shutdown) -> R;

/// One `#[test]` per case of [`cases`], each running it against the runtime `$make` builds
/// (`fn(Shutdown) -> R`).
#[macro_export]
macro_rules! conformance {
    ($make:expr) => {
        $crate::conformance!(@each $make;
            many_concurrent_connections_each_get_their_own_answers,
            pipelined_requests_are_answered_in_order,
            a_slow_reader_stops_the_session_being_polled,
            half_close_flushes_the_replies_then_closes,
            a_peer_reset_mid_response_affects_no_other_connection,
            max_connections_refuses_with_the_overload_reply,
            session_deadlines_fire,
            an_idle_session_is_told_to_release_its_buffers,
            shutdown_finishes_responses_in_flight_then_returns,
            shutdown_cuts_what_outlasts_the_grace_period,
            byte_at_a_time_input_gives_the_same_answers,
            closing_with_unread_input_still_delivers_the_last_answer,
            a_flooding_connection_does_not_starve_the_others_of_its_thread,
            udp_datagrams_are_answered_until_shutdown,
            run_client_sends_the_request_and_reads_to_the_end,
            run_client_reports_a_refused_connection_as_a_connect_error,
            run_client_gives_up_connecting_after_the_timeout,
            run_client_drives_a_get_session,
            the_file_server_keeps_connections_alive,
            the_file_server_answers_503_over_the_limit,
            when_full_the_longest_waiting_connection_makes_room,
            the_first_byte_timeout_closes_a_silent_connection,
            an_error_reply_survives_unread_input,
            a_panicking_session_only_loses_its_own_connection
        );
    };
    (@each $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::cases::$case($make)
            }
        )*
    };
}
