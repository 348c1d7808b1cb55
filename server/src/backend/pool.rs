//! The servers one client samples from, shared by all of its calls (every stage of a job, every
//! job of `swiss eval`): each endpoint's free slots, how fast it has recently been, and whether it
//! is in the pool or taken out until a probe finds it answering again.
//!
//! A slot is one sample being written: a request for `n` choices holds `n` slots, and each slot is
//! given back as soon as its choice arrives, as vLLM frees a sequence's place in the batch when it
//! finishes.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::error::BackendError;
use super::plan::Request;

/// How much the latest hold time of a slot counts against the ones before it: a server that
/// slows down (a longer queue, a neighbour on its GPU) is seen within a few samples.
const SMOOTHING: f64 = 0.3;

/// What an endpoint without `max_concurrent` counts as, for spreading only: it is never full, and
/// two such endpoints split a call evenly, as before there were limits.
pub(crate) const UNBOUNDED_SLOTS: usize = 64;

/// One endpoint as the planner sees it at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Slot {
    /// Slots not held by any call; `None` when the endpoint has no limit.
    pub free: Option<usize>,
    /// Held by every call together, whatever the limit.
    pub held: usize,
    /// Samples a second one of its slots gives: 1 / the recent hold time of a slot. Endpoints
    /// not measured yet get the mean of the others, so that they are tried.
    pub weight: f64,
    /// In the pool: not taken out, or probed back since.
    pub up: bool,
    /// How many times the endpoint came back; a call that saw it fail may use it again once this
    /// moves on.
    pub epoch: u64,
}

struct Load {
    max: Option<usize>,
    held: usize,
    /// Seconds from sending a request to one of its choices arriving, smoothed.
    hold_secs: Option<f64>,
    out: bool,
    epoch: u64,
    /// Fired when the endpoint is taken out, so that every call's open requests on it end and
    /// their samples are asked for elsewhere; replaced when it comes back.
    taken_out: CancellationToken,
    /// Why it was taken out, for the requests that ends.
    cause: Option<BackendError>,
}

pub(crate) struct Pool {
    loads: Mutex<Vec<Load>>,
    /// Bumped whenever slots are given back or an endpoint comes back: calls waiting for
    /// capacity look again.
    changed: watch::Sender<u64>,
    probe_interval: Duration,
}

impl Pool {
    /// One entry per endpoint, in the client's order: its `max_concurrent`.
    pub(crate) fn new(limits: &[Option<usize>], probe_interval: Duration) -> Pool {
        let loads = limits
            .iter()
            .map(|&max| Load {
                max,
                held: 0,
                hold_secs: None,
                out: false,
                epoch: 0,
                taken_out: CancellationToken::new(),
                cause: None,
            })
            .collect();
        Pool {
            loads: Mutex::new(loads),
            changed: watch::channel(0).0,
            probe_interval,
        }
    }

    pub(crate) fn probe_interval(&self) -> Duration {
        self.probe_interval
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    // A panic elsewhere while holding the lock leaves counts that are still counts.
    fn lock(&self) -> MutexGuard<'_, Vec<Load>> {
        self.loads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|version| *version += 1);
    }

    pub(crate) fn slots(&self) -> Vec<Slot> {
        slots_of(&self.lock())
    }

    /// Runs the planner on the pool as it is now and holds the slots of the requests it returns,
    /// in one step, so that two calls planning at once never both take the last free slot.
    pub(crate) fn assign(&self, plan: impl FnOnce(&[Slot]) -> Vec<Request>) -> Vec<Request> {
        let mut loads = self.lock();
        let requests = plan(&slots_of(&loads));
        for request in &requests {
            loads[request.endpoint].held += request.count;
        }
        requests
    }

    /// Gives back `count` slots of `endpoint`.
    pub(crate) fn release(&self, endpoint: usize, count: usize) {
        if count == 0 {
            return;
        }
        {
            let mut loads = self.lock();
            let load = &mut loads[endpoint];
            load.held = load.held.saturating_sub(count);
        }
        self.bump();
    }

    /// A choice arrived `held` after its request was sent.
    pub(crate) fn record_hold(&self, endpoint: usize, held: Duration) {
        let secs = held.as_secs_f64().max(1e-3);
        let mut loads = self.lock();
        let load = &mut loads[endpoint];
        load.hold_secs = Some(match load.hold_secs {
            Some(old) => old + SMOOTHING * (secs - old),
            None => secs,
        });
    }

    /// What fires when `endpoint` is taken out (already fired when it is out now).
    pub(crate) fn taken_out_signal(&self, endpoint: usize) -> CancellationToken {
        self.lock()[endpoint].taken_out.clone()
    }

    /// Takes `endpoint` out of the pool and ends every open request on it; `true` when it was in,
    /// so that exactly one caller starts probing it.
    pub(crate) fn take_out(&self, endpoint: usize, cause: &BackendError) -> bool {
        let mut loads = self.lock();
        let load = &mut loads[endpoint];
        if load.out {
            return false;
        }
        load.out = true;
        load.cause = Some(cause.clone());
        load.taken_out.cancel();
        true
    }

    /// `endpoint` answered (a probe, or a request sent while nothing else was in the pool): it
    /// is in the pool again.
    pub(crate) fn back(&self, endpoint: usize) {
        {
            let mut loads = self.lock();
            let load = &mut loads[endpoint];
            if !load.out {
                return;
            }
            load.out = false;
            load.epoch += 1;
            load.taken_out = CancellationToken::new();
        }
        self.bump();
    }

    /// The error that took `endpoint` out, while it is out.
    pub(crate) fn cause(&self, endpoint: usize) -> Option<BackendError> {
        let loads = self.lock();
        loads[endpoint]
            .cause
            .clone()
            .filter(|_| loads[endpoint].out)
    }

    pub(crate) fn is_out(&self, endpoint: usize) -> bool {
        self.lock()[endpoint].out
    }
}

fn slots_of(loads: &[Load]) -> Vec<Slot> {
    let known: Vec<f64> = loads
        .iter()
        .filter_map(|l| l.hold_secs)
        .map(|secs| 1.0 / secs)
        .collect();
    let unmeasured = if known.is_empty() {
        1.0
    } else {
        known.iter().sum::<f64>() / known.len() as f64
    };
    loads
        .iter()
        .map(|load| Slot {
            free: load.max.map(|max| max.saturating_sub(load.held)),
            held: load.held,
            weight: load.hold_secs.map_or(unmeasured, |secs| 1.0 / secs),
            up: !load.out,
            epoch: load.epoch,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(endpoint: usize, count: usize) -> Request {
        Request { endpoint, count }
    }

    #[test]
    fn assigned_requests_hold_slots_until_released() {
        let pool = Pool::new(&[Some(4), None], Duration::from_secs(1));
        pool.assign(|_| vec![request(0, 3), request(1, 10)]);
        let slots = pool.slots();
        assert_eq!(slots[0].free, Some(1));
        assert_eq!(slots[1].free, None);
        assert_eq!(slots[1].held, 10);
        pool.release(0, 2);
        assert_eq!(pool.slots()[0].free, Some(3));
        pool.release(0, 5);
        assert_eq!(pool.slots()[0].free, Some(4), "never more than the limit");
    }

    #[test]
    fn a_faster_endpoint_weighs_more_and_an_unmeasured_one_gets_the_mean() {
        let pool = Pool::new(&[None, None, None], Duration::from_secs(1));
        pool.record_hold(0, Duration::from_millis(100));
        pool.record_hold(1, Duration::from_millis(400));
        let slots = pool.slots();
        assert!((slots[0].weight - 10.0).abs() < 1e-9);
        assert!((slots[1].weight - 2.5).abs() < 1e-9);
        assert!((slots[2].weight - 6.25).abs() < 1e-9);
    }

    #[test]
    fn taking_out_fires_once_and_coming_back_moves_the_epoch() {
        let pool = Pool::new(&[None], Duration::from_secs(1));
        let signal = pool.taken_out_signal(0);
        let cause = BackendError::Config("down".to_owned());
        assert!(pool.take_out(0, &cause));
        assert!(!pool.take_out(0, &cause), "already out");
        assert!(matches!(pool.cause(0), Some(BackendError::Config(_))));
        assert!(signal.is_cancelled());
        assert!(!pool.slots()[0].up);
        let changes = pool.subscribe();
        pool.back(0);
        assert!(changes.has_changed().unwrap());
        let slot = pool.slots()[0];
        assert!(slot.up);
        assert_eq!(slot.epoch, 1);
        assert!(!pool.taken_out_signal(0).is_cancelled());
    }
}
