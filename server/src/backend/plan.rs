//! Which requests to send, to which endpoint, for how many samples, so that one call ends with
//! exactly `n` samples.
//!
//! The bookkeeping keeps `delivered + requested + unassigned == n` at all times, which is what
//! guarantees that a call never hands out more than `n` samples however servers answer.

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
    failed: bool,
}

#[derive(Debug)]
pub(crate) struct Plan {
    endpoints: Vec<EndpointState>,
    n: usize,
    unassigned: usize,
    delivered: usize,
    /// Which endpoint gets the odd sample when `n` does not split evenly; rotated per call so
    /// that many one-sample calls spread over all endpoints.
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

    #[cfg(test)]
    pub(crate) fn delivered(&self) -> usize {
        self.delivered
    }

    /// Whether no endpoint is left to ask while samples are still missing.
    pub(crate) fn is_stuck(&self) -> bool {
        !self.is_complete() && self.endpoints.iter().all(|e| e.failed && e.in_flight == 0)
    }

    /// Requests to send now: the samples nobody has been asked for yet, split evenly over the
    /// endpoints still working, each share cut to what that endpoint returns per request.
    pub(crate) fn next_requests(&mut self) -> Vec<Request> {
        let len = self.endpoints.len();
        let open: Vec<usize> = (0..len)
            .map(|i| (self.first + i) % len)
            .filter(|&i| {
                let e = &self.endpoints[i];
                !e.failed && e.in_flight < MAX_IN_FLIGHT_PER_ENDPOINT
            })
            .collect();
        let mut requests = Vec::new();
        if open.is_empty() || self.unassigned == 0 {
            return requests;
        }
        let base = self.unassigned / open.len();
        let extra = self.unassigned % open.len();
        for (rank, &endpoint) in open.iter().enumerate() {
            let mut share = base + usize::from(rank < extra);
            let state = &mut self.endpoints[endpoint];
            while share > 0 && state.in_flight < MAX_IN_FLIGHT_PER_ENDPOINT {
                let count = state.cap.map_or(share, |cap| cap.min(share));
                state.in_flight += 1;
                share -= count;
                self.unassigned -= count;
                requests.push(Request { endpoint, count });
            }
        }
        requests
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

    /// Records that a request gave up after `kept` choices: the rest of its samples go to the
    /// other endpoints, and this endpoint gets no new requests in this call.
    pub(crate) fn failed(&mut self, request: &Request, kept: usize) {
        let state = &mut self.endpoints[request.endpoint];
        state.in_flight -= 1;
        state.failed = true;
        self.unassigned += request.count - kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(plan.next_requests(), [req(0, 40)]);
        assert_eq!(plan.next_requests(), []);
        assert_eq!(answered(&mut plan, &req(0, 40), 40), 40);
        assert!(plan.is_complete());
    }

    #[test]
    fn splits_evenly_with_rotating_remainder() {
        let mut plan = Plan::new(3, 7, 0);
        assert_eq!(plan.next_requests(), [req(0, 3), req(1, 2), req(2, 2)]);
        let mut plan = Plan::new(3, 7, 1);
        assert_eq!(plan.next_requests(), [req(1, 3), req(2, 2), req(0, 2)]);
        let mut plan = Plan::new(2, 1, 1);
        assert_eq!(plan.next_requests(), [req(1, 1)]);
    }

    #[test]
    fn tops_up_a_server_that_ignores_n() {
        let mut plan = Plan::new(1, 5, 0);
        assert_eq!(plan.next_requests(), [req(0, 5)]);
        assert_eq!(answered(&mut plan, &req(0, 5), 1), 1);
        let top_up = plan.next_requests();
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
        plan.next_requests();
        answered(&mut plan, &req(0, 40), 1);
        let top_up = plan.next_requests();
        assert_eq!(top_up.len(), MAX_IN_FLIGHT_PER_ENDPOINT);
        assert_eq!(plan.next_requests(), []);
        answered(&mut plan, &top_up[0], 1);
        assert_eq!(plan.next_requests(), [req(0, 1)]);
    }

    #[test]
    fn respects_a_server_side_cap_on_n() {
        let mut plan = Plan::new(1, 40, 0);
        plan.next_requests();
        assert_eq!(answered(&mut plan, &req(0, 40), 16), 16);
        assert_eq!(plan.next_requests(), [req(0, 16), req(0, 8)]);
    }

    #[test]
    fn drops_extras() {
        let mut plan = Plan::new(1, 2, 0);
        plan.next_requests();
        assert_eq!(answered(&mut plan, &req(0, 2), 5), 2);
        assert!(plan.is_complete());
    }

    #[test]
    fn moves_a_failed_endpoints_share_to_the_others() {
        let mut plan = Plan::new(2, 6, 0);
        assert_eq!(plan.next_requests(), [req(0, 3), req(1, 3)]);
        plan.failed(&req(1, 3), 0);
        assert!(!plan.is_stuck());
        assert_eq!(plan.next_requests(), [req(0, 3)]);
        answered(&mut plan, &req(0, 3), 3);
        answered(&mut plan, &req(0, 3), 3);
        assert!(plan.is_complete());
    }

    #[test]
    fn a_request_that_fails_part_way_hands_on_only_what_it_did_not_deliver() {
        let mut plan = Plan::new(2, 6, 0);
        assert_eq!(plan.next_requests(), [req(0, 3), req(1, 3)]);
        assert_eq!(plan.take(&req(1, 3), 0), Some(0));
        assert_eq!(plan.take(&req(1, 3), 1), Some(1));
        plan.failed(&req(1, 3), 2);
        assert_eq!(plan.next_requests(), [req(0, 1)]);
        assert_eq!(answered(&mut plan, &req(0, 3), 3), 3);
        assert_eq!(answered(&mut plan, &req(0, 1), 1), 1);
        assert!(plan.is_complete());
        assert_eq!(plan.delivered(), 6);
    }

    #[test]
    fn stuck_when_every_endpoint_failed() {
        let mut plan = Plan::new(2, 4, 0);
        plan.next_requests();
        plan.failed(&req(0, 2), 0);
        assert!(!plan.is_stuck(), "endpoint 1 is still working");
        assert_eq!(plan.next_requests(), [req(1, 2)]);
        plan.failed(&req(1, 2), 0);
        assert!(!plan.is_stuck(), "endpoint 1 still has a request open");
        assert_eq!(plan.next_requests(), []);
        plan.failed(&req(1, 2), 0);
        assert!(plan.is_stuck());
    }
}
