//! The figure the bench binaries quote of several timed runs.

use std::time::Duration;

/// The middle value (the upper one of an even count); panics on no values.
pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
