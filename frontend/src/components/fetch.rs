//! Data a page reads from the API: a `GET` that is made again whenever its path changes or on
//! [`Fetch::refetch`].
//!
//! Rule: every such read goes through the one non-generic [`RawFetch`], which keeps the answer unparsed;
//! [`Fetch<T>`] only parses it when read. Leptos instantiates a resource's future and its reactive plumbing
//! once per answer type, so one resource type for all of them keeps the `.wasm` small (docs/benchmarks.md,
//! "Console").

use std::marker::PhantomData;

use leptos::prelude::*;
use serde::de::DeserializeOwned;

use crate::api::{self, Answer, ApiError};

/// What one fetch returned: the path it answered (`None`: nothing asked yet) and the answer, or why not.
type Loaded = (Option<String>, Result<Answer, ApiError>);

/// A `GET` of whatever path `path` holds, made again when the path changes or `reload` is bumped.
#[derive(Clone, Copy)]
pub struct RawFetch {
    path: Memo<Option<String>>,
    loaded: LocalResource<Loaded>,
    reload: RwSignal<u32>,
}

impl RawFetch {
    pub fn new(path: Memo<Option<String>>, reload: RwSignal<u32>) -> Self {
        let loaded = LocalResource::new(move || {
            let path = path.get();
            reload.track();
            async move {
                let answer = match &path {
                    Some(path) => api::get_answer(path).await,
                    // Nothing to ask yet; the page shows "Loading…" meanwhile.
                    None => Ok(Answer::default()),
                };
                (path, answer)
            }
        });
        RawFetch {
            path,
            loaded,
            reload,
        }
    }

    /// Reads the answer on screen (the previous one while the next loads); `None` before there is one.
    pub fn with<R>(&self, read: impl FnOnce(&Result<Answer, ApiError>) -> R) -> Option<R> {
        self.loaded.with(|loaded| match loaded {
            Some((Some(_), answer)) => Some(read(answer)),
            _ => None,
        })
    }

    /// Whether the answer on screen is not (yet) the one for the current path.
    pub fn loading(&self) -> bool {
        let wanted = self.path.get();
        wanted.is_none() || self.loaded.with(|l| l.as_ref().map(|(p, _)| p.clone())) != Some(wanted)
    }

    /// `X-Total-Count` of the answer on screen (counting its items without the header); 0 until there is one,
    /// or when it failed.
    pub fn total(&self) -> u64 {
        self.with(|answer| answer.as_ref().map_or(0, Answer::total))
            .unwrap_or(0)
    }

    /// Asks again.
    pub fn refetch(&self) {
        self.reload.update(|n| *n += 1);
    }
}

/// A `GET` answering a `T`, parsed when read.
pub struct Fetch<T: 'static> {
    raw: RawFetch,
    answer: PhantomData<fn() -> T>,
}

impl<T: 'static> Clone for Fetch<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Fetch<T> {}

impl<T: DeserializeOwned + 'static> Fetch<T> {
    /// Fetches `path` (`None`: nothing to ask yet), again whenever it changes.
    pub fn new(path: impl Fn() -> Option<String> + Send + Sync + 'static) -> Self {
        Self::with_reload(path, RwSignal::new(0))
    }

    /// Like [`Fetch::new`], also fetching again whenever `reload` is bumped.
    pub fn with_reload(
        path: impl Fn() -> Option<String> + Send + Sync + 'static,
        reload: RwSignal<u32>,
    ) -> Self {
        Self::of(RawFetch::new(Memo::new(move |_| path()), reload))
    }

    /// Fetches a fixed path once (and on [`Fetch::refetch`]).
    pub fn at(path: &'static str) -> Self {
        Self::of(RawFetch::new(
            Memo::new(move |_| Some(path.to_owned())),
            RwSignal::new(0),
        ))
    }

    fn of(raw: RawFetch) -> Self {
        Fetch {
            raw,
            answer: PhantomData,
        }
    }

    /// The answer on screen, parsed: `None` until the first one arrives (or while there is no path).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        self.raw
            .with(|answer| answer.as_ref().map_err(Clone::clone)?.json())
    }

    /// The answer on screen if it came and parsed; `None` otherwise.
    pub fn ok(&self) -> Option<T> {
        self.get().and_then(Result::ok)
    }

    pub fn refetch(&self) {
        self.raw.refetch();
    }
}
