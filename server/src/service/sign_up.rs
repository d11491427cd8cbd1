//! The limit on self-registration: an anonymous `POST /users` (when `self_registration` is on) costs an
//! argon2 hash and a row, so anonymous sign-ups are counted per client address and in all, in fixed windows.
//!
//! The address is the client address of `auth::client_address`: the TCP peer, or what a configured trusted proxy
//! names in `X-Forwarded-For` (anyone else's `X-Forwarded-For` is ignored, so a client cannot dodge its count). The
//! counts live in memory (a restart forgets them) and their table is bounded: when it is full of live
//! windows, new addresses are refused until some expire, so a flood from many addresses cannot grow memory.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dashmap::DashMap;

/// Sign-ups one address may attempt per window.
pub const PER_ADDRESS: u32 = 10;
/// Sign-ups all anonymous callers together may attempt per window.
pub const IN_ALL: u32 = 100;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60 * 60);
/// Addresses tracked at most.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl Window {
    fn new() -> Window {
        Window {
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one attempt if the window (restarted when over) has room.
    fn take(&mut self, max: u32) -> bool {
        if self.started.elapsed() >= WINDOW {
            *self = Window::new();
        }
        if self.count >= max {
            return false;
        }
        self.count += 1;
        true
    }
}

/// Counts anonymous sign-up attempts.
#[derive(Debug)]
pub struct SignUpLimit {
    per_address: DashMap<IpAddr, Window>,
    in_all: Mutex<Window>,
}

impl Default for SignUpLimit {
    fn default() -> Self {
        SignUpLimit {
            per_address: DashMap::new(),
            in_all: Mutex::new(Window::new()),
        }
    }
}

impl SignUpLimit {
    /// Whether an anonymous sign-up from `address` may go ahead now; counts it if so.
    pub fn admit(&self, address: Option<IpAddr>) -> bool {
        if let Some(address) = address {
            if !self.per_address.contains_key(&address) && self.per_address.len() >= MAX_ADDRESSES {
                self.per_address
                    .retain(|_, window| window.started.elapsed() < WINDOW);
                if self.per_address.len() >= MAX_ADDRESSES {
                    return false;
                }
            }
            let mut window = self.per_address.entry(address).or_insert_with(Window::new);
            if !window.take(PER_ADDRESS) {
                return false;
            }
        }
        self.in_all
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take(IN_ALL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_all_together_theirs() {
        let limit = SignUpLimit::default();
        let one: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..PER_ADDRESS {
            assert!(limit.admit(Some(one)));
        }
        assert!(!limit.admit(Some(one)), "the address is over its share");
        let mut admitted = PER_ADDRESS;
        for i in 0..=255u8 {
            if limit.admit(Some([198, 51, 100, i].into())) {
                admitted += 1;
            }
        }
        assert_eq!(admitted, IN_ALL, "all addresses together");
    }
}
