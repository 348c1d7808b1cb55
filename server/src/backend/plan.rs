//! Which requests to send, to which endpoint, for how many samples, so that one call ends with
//! exactly `n` samples.
//!
//! The bookkeeping keeps `delivered + requested + unassigned == n` at all times, which is what
//! guarantees that a call never hands out more than `n` samples however servers answer.

use super::pool::{Slot, UNBOUNDED_SLOTS};

/// Top-up requests an endpoint may have open at once. A server that ignores `n` answers one
/// sample per request, so the remaining samples go out as parallel single requests: llama.cpp and
/// Ollama serve several slots, and this bound keeps a 40-sample call from opening 40 sockets.
pub(crate) const MAX_IN_FLIGHT_PER_ENDPOINT: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub endpoint: usize,
    pub count: usize,
}

#[derive(Debug, Default, Clone)]
struct EndpointState {
    /// The most choices this endpoint has returned for one request when asked for more; `None`
    /// until it has shown a limit.
    cap: Option<usize>,
    in_flight: usize,
    /// The pool epoch in which a request of this call failed there: the endpoint gets no more of
    /// this call's samples unless it has come back since.
    failed_in: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Plan {
    endpoints: Vec<EndpointState>,
    n: usize,
    unassigned: usize,
    delivered: usize,
    /// Which endpoint wins a tie (the odd sample when `n` does not split evenly); rotated per
    /// call so that many one-sample calls spread over all endpoints.
    first: usize,
}

impl Plan {
    pub(crate) fn new(endpoints: usize, n: usize, first: usize) -> Self {
        assert!(endpoints > 0, "a plan needs at least one endpoint");
        Self {
            endpoints: vec![EndpointState::default(); endpoints],
            n,
            unassigned: n,
            delivered: 0,
            first: first % endpoints,
        }
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.delivered == self.n
    }

    pub(crate) fn has_unassigned(&self) -> bool {
        self.unassigned > 0
    }

    #[cfg(test)]
    pub(crate) fn delivered(&self) -> usize {
        self.delivered
    }

    fn failed_there(&self, endpoint: usize, slots: &[Slot]) -> bool {
        self.endpoints[endpoint].failed_in == Some(slots[endpoint].epoch)
    }

    /// Whether this call may send to `endpoint`: it has not failed this call, and it is in the
    /// pool, or nothing this call may use is (then a request is the probe).
    fn usable(&self, endpoint: usize, slots: &[Slot]) -> bool {
        !self.failed_there(endpoint, slots)
            && (slots[endpoint].up
                || !(0..slots.len()).any(|i| slots[i].up && !self.failed_there(i, slots)))
    }

    /// Whether no endpoint is left to ask while samples are still missing.
    pub(crate) fn is_stuck(&self, slots: &[Slot]) -> bool {
        !self.is_complete()
            && self.endpoints.iter().all(|e| e.in_flight == 0)
            && !(0..slots.len()).any(|i| self.usable(i, slots))
    }

    /// Requests to send now: the samples nobody has been asked for yet, one at a time to the
    /// endpoint with the most free slots weighted by its recent speed, so that a faster server
    /// takes more; each endpoint's share then cut to what it returns per request.
    pub(crate) fn next_requests(&mut self, slots: &[Slot]) -> Vec<Request> {
        let len = self.endpoints.len();
        let order: Vec<usize> = (0..len).map(|i| (self.first + i) % len).collect();
        let mut room: Vec<usize> = (0..len).map(|i| self.room(i, slots)).collect();
        let mut shares = vec![0usize; len];
        while self.unassigned > 0 {
            let best = order
                .iter()
                .copied()
                .filter(|&i| room[i] > 0)
                .map(|i| (i, score(&slots[i], shares[i])))
                .fold(None, |best: Option<(usize, f64)>, (i, s)| match best {
                    Some((_, b)) if b >= s => best,
                    _ => Some((i, s)),
                });
            let Some((endpoint, _)) = best else { break };
            shares[endpoint] += 1;
            room[endpoint] -= 1;
            self.unassigned -= 1;
        }
        let mut requests = Vec::new();
        for endpoint in order {
            let mut share = shares[endpoint];
            let state = &mut self.endpoints[endpoint];
            while share > 0 {
                let count = state.cap.map_or(share, |cap| cap.min(share));
                state.in_flight += 1;
                share -= count;
                requests.push(Request { endpoint, count });
            }
        }
        requests
    }

    /// How many more samples this call may give `endpoint` now: its free slots, and no more
    /// than [`MAX_IN_FLIGHT_PER_ENDPOINT`] requests of its known size.
    fn room(&self, endpoint: usize, slots: &[Slot]) -> usize {
        if !self.usable(endpoint, slots) {
            return 0;
        }
        let state = &self.endpoints[endpoint];
        let requests = MAX_IN_FLIGHT_PER_ENDPOINT.saturating_sub(state.in_flight);
        let by_requests = match state.cap {
            _ if requests == 0 => 0,
            Some(cap) => requests * cap,
            None => usize::MAX,
        };
        by_requests.min(slots[endpoint].free.unwrap_or(usize::MAX))
    }

    /// A choice arrived for `request`, which has had `kept` choices kept so far: its sample
    /// index when kept, `None` for an extra beyond what was asked.
    pub(crate) fn take(&mut self, request: &Request, kept: usize) -> Option<usize> {
        (kept < request.count).then(|| {
            self.delivered += 1;
            self.delivered - 1
        })
    }

    /// Records that `request` ended after its server returned `returned` choices, `kept` of them
    /// taken. A shortfall goes back to be asked for, and teaches the plan the server's limit.
    pub(crate) fn finished(&mut self, request: &Request, returned: usize, kept: usize) {
        let state = &mut self.endpoints[request.endpoint];
        state.in_flight -= 1;
        if returned < request.count {
            let seen = returned.max(1);
            state.cap = Some(state.cap.map_or(seen, |cap| cap.min(seen)));
        }
        self.unassigned += request.count - kept;
    }

    /// Records that a request gave up after `kept` choices, in the endpoint's pool epoch
    /// `epoch`: the rest of its samples go to the other endpoints, and this endpoint gets no new
    /// requests in this call unless it comes back.
    pub(crate) fn failed(&mut self, request: &Request, kept: usize, epoch: u64) {
        let state = &mut self.endpoints[request.endpoint];
        state.in_flight -= 1;
        state.failed_in = Some(epoch);
        self.unassigned += request.count - kept;
    }
}

/// Free slots weighted by speed, after `taken` more samples of this plan; an endpoint without a
/// limit counts as [`UNBOUNDED_SLOTS`] and is never full.
fn score(slot: &Slot, taken: usize) -> f64 {
    let left = match slot.free {
        Some(free) => free.saturating_sub(taken),
        None => UNBOUNDED_SLOTS.saturating_sub(slot.held + taken).max(1),
    };
    slot.weight * left as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unlimited, equally fast, healthy slots, one per endpoint of `plan`.
    fn open(plan: &Plan) -> Vec<Slot> {
        vec![
            Slot {
                free: None,
                held: 0,
                weight: 1.0,
                up: true,
                epoch: 0,
            };
            plan.endpoints.len()
        ]
    }

    fn req(endpoint: usize, count: usize) -> Request {
        Request { endpoint, count }
    }

    /// A whole answer of `returned` choices; how many were kept.
    fn answered(plan: &mut Plan, request: &Request, returned: usize) -> usize {
        let mut kept = 0;
        for _ in 0..returned {
            if plan.take(request, kept).is_some() {
                kept += 1;
            }
        }
        plan.finished(request, returned, kept);
        kept
    }

    #[test]
    fn one_endpoint_gets_everything_in_one_request() {
        let mut plan = Plan::new(1, 40, 0);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 40)]);
        assert_eq!(plan.next_requests(&open(&plan)), []);
        assert_eq!(answered(&mut plan, &req(0, 40), 40), 40);
        assert!(plan.is_complete());
    }

    #[test]
    fn splits_evenly_with_rotating_remainder() {
        let mut plan = Plan::new(3, 7, 0);
        assert_eq!(
            plan.next_requests(&open(&plan)),
            [req(0, 3), req(1, 2), req(2, 2)]
        );
        let mut plan = Plan::new(3, 7, 1);
        assert_eq!(
            plan.next_requests(&open(&plan)),
            [req(1, 3), req(2, 2), req(0, 2)]
        );
        let mut plan = Plan::new(2, 1, 1);
        assert_eq!(plan.next_requests(&open(&plan)), [req(1, 1)]);
    }

    #[test]
    fn tops_up_a_server_that_ignores_n() {
        let mut plan = Plan::new(1, 5, 0);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 5)]);
        assert_eq!(answered(&mut plan, &req(0, 5), 1), 1);
        let top_up = plan.next_requests(&open(&plan));
        assert_eq!(top_up, vec![req(0, 1); 4]);
        for r in &top_up {
            assert_eq!(answered(&mut plan, r, 1), 1);
        }
        assert!(plan.is_complete());
        assert_eq!(plan.delivered(), 5);
    }

    #[test]
    fn bounds_parallel_top_ups() {
        let mut plan = Plan::new(1, 40, 0);
        plan.next_requests(&open(&plan));
        answered(&mut plan, &req(0, 40), 1);
        let top_up = plan.next_requests(&open(&plan));
        assert_eq!(top_up.len(), MAX_IN_FLIGHT_PER_ENDPOINT);
        assert_eq!(plan.next_requests(&open(&plan)), []);
        answered(&mut plan, &top_up[0], 1);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 1)]);
    }

    #[test]
    fn respects_a_server_side_cap_on_n() {
        let mut plan = Plan::new(1, 40, 0);
        plan.next_requests(&open(&plan));
        assert_eq!(answered(&mut plan, &req(0, 40), 16), 16);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 16), req(0, 8)]);
    }

    #[test]
    fn drops_extras() {
        let mut plan = Plan::new(1, 2, 0);
        plan.next_requests(&open(&plan));
        assert_eq!(answered(&mut plan, &req(0, 2), 5), 2);
        assert!(plan.is_complete());
    }

    #[test]
    fn moves_a_failed_endpoints_share_to_the_others() {
        let mut plan = Plan::new(2, 6, 0);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 3), req(1, 3)]);
        plan.failed(&req(1, 3), 0, 0);
        assert!(!plan.is_stuck(&open(&plan)));
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 3)]);
        answered(&mut plan, &req(0, 3), 3);
        answered(&mut plan, &req(0, 3), 3);
        assert!(plan.is_complete());
    }

    #[test]
    fn a_request_that_fails_part_way_hands_on_only_what_it_did_not_deliver() {
        let mut plan = Plan::new(2, 6, 0);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 3), req(1, 3)]);
        assert_eq!(plan.take(&req(1, 3), 0), Some(0));
        assert_eq!(plan.take(&req(1, 3), 1), Some(1));
        plan.failed(&req(1, 3), 2, 0);
        assert_eq!(plan.next_requests(&open(&plan)), [req(0, 1)]);
        assert_eq!(answered(&mut plan, &req(0, 3), 3), 3);
        assert_eq!(answered(&mut plan, &req(0, 1), 1), 1);
        assert!(plan.is_complete());
        assert_eq!(plan.delivered(), 6);
    }

    #[test]
    fn stuck_when_every_endpoint_failed() {
        let mut plan = Plan::new(2, 4, 0);
        plan.next_requests(&open(&plan));
        plan.failed(&req(0, 2), 0, 0);
        assert!(!plan.is_stuck(&open(&plan)), "endpoint 1 is still working");
        assert_eq!(plan.next_requests(&open(&plan)), [req(1, 2)]);
        plan.failed(&req(1, 2), 0, 0);
        assert!(
            !plan.is_stuck(&open(&plan)),
            "endpoint 1 still has a request open"
        );
        assert_eq!(plan.next_requests(&open(&plan)), []);
        plan.failed(&req(1, 2), 0, 0);
        assert!(plan.is_stuck(&open(&plan)));
    }

    fn slot(free: Option<usize>, weight: f64, up: bool, epoch: u64) -> Slot {
        Slot {
            free,
            held: 0,
            weight,
            up,
            epoch,
        }
    }

    #[test]
    fn free_slots_bound_a_share_and_the_rest_waits() {
        let mut plan = Plan::new(2, 10, 0);
        let slots = [slot(Some(3), 1.0, true, 0), slot(Some(2), 1.0, true, 0)];
        assert_eq!(plan.next_requests(&slots), [req(0, 3), req(1, 2)]);
        assert!(plan.has_unassigned());
        let full = [slot(Some(0), 1.0, true, 0), slot(Some(0), 1.0, true, 0)];
        assert_eq!(plan.next_requests(&full), []);
        assert!(!plan.is_stuck(&full), "full is not stuck: slots come back");
    }

    #[test]
    fn a_faster_endpoint_takes_more_of_its_free_slots() {
        let mut plan = Plan::new(2, 8, 0);
        let slots = [slot(Some(8), 1.0, true, 0), slot(Some(8), 3.0, true, 0)];
        let requests = plan.next_requests(&slots);
        let to = |e: usize| -> usize {
            requests
                .iter()
                .filter(|r| r.endpoint == e)
                .map(|r| r.count)
                .sum()
        };
        assert_eq!(to(0) + to(1), 8);
        assert!(to(1) >= 3 * to(0) - 3, "{requests:?}");
        assert!(to(1) > to(0), "{requests:?}");
    }

    #[test]
    fn an_endpoint_out_of_the_pool_is_skipped_unless_nothing_else_is_left() {
        let mut plan = Plan::new(2, 4, 0);
        let slots = [slot(None, 1.0, false, 0), slot(None, 1.0, true, 0)];
        assert_eq!(plan.next_requests(&slots), [req(1, 4)]);
        plan.failed(&req(1, 4), 0, 0);
        assert_eq!(
            plan.next_requests(&slots),
            [req(0, 4)],
            "with the only one in the pool failed, the one out is asked: the request probes it"
        );
        plan.failed(&req(0, 4), 0, 0);
        assert!(plan.is_stuck(&slots));
        let back = [slot(None, 1.0, true, 1), slot(None, 1.0, true, 0)];
        assert!(
            !plan.is_stuck(&back),
            "endpoint 0 came back since it failed"
        );
        assert_eq!(plan.next_requests(&back), [req(0, 4)]);
    }
}
