//! Requests the sandbox received, by kind: what a benchmark or a test reads to tell how
//! many lists, reads and writes a command cost.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::Method;

/// What a request asked for, from its method and path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// GET of a collection: the projects, or a project's connections.
    List,
    /// GET of one connection.
    Get,
    /// POST of a connection.
    Create,
    /// PUT of a connection.
    Update,
    /// DELETE of a connection.
    Delete,
    /// Anything else: the token endpoint, `hello`, unknown paths.
    Other,
}

impl RequestKind {
    /// The kind of a request for `path` (the URL path, query aside).
    pub fn of(method: &Method, path: &str) -> RequestKind {
        let on_connection = path.contains("/connections/");
        let is_collection = path.ends_with("/connections/") || path == "/apiops/projects/";
        match *method {
            Method::GET if is_collection => RequestKind::List,
            Method::GET if on_connection => RequestKind::Get,
            Method::POST if on_connection => RequestKind::Create,
            Method::PUT if on_connection => RequestKind::Update,
            Method::DELETE if on_connection => RequestKind::Delete,
            _ => RequestKind::Other,
        }
    }
}

/// How many requests of each kind, as read at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// Collection GETs.
    pub lists: u64,
    /// Single-connection GETs.
    pub gets: u64,
    /// POSTs.
    pub creates: u64,
    /// PUTs.
    pub updates: u64,
    /// DELETEs.
    pub deletes: u64,
    /// Everything else (token, hello, unknown paths).
    pub other: u64,
}

impl RequestCounts {
    /// Requests of every kind.
    pub fn total(&self) -> u64 {
        self.lists + self.gets + self.writes() + self.other
    }

    /// Creates, updates and deletes.
    pub fn writes(&self) -> u64 {
        self.creates + self.updates + self.deletes
    }

    /// What happened between `earlier` and `self` (both from the same sandbox).
    pub fn since(&self, earlier: &RequestCounts) -> RequestCounts {
        RequestCounts {
            lists: self.lists - earlier.lists,
            gets: self.gets - earlier.gets,
            creates: self.creates - earlier.creates,
            updates: self.updates - earlier.updates,
            deletes: self.deletes - earlier.deletes,
            other: self.other - earlier.other,
        }
    }
}

/// Live counters, one per kind, shared by every handler.
#[derive(Debug, Default)]
pub(crate) struct RequestCounters([AtomicU64; 6]);

impl RequestCounters {
    /// Counts one request.
    pub fn record(&self, kind: RequestKind) {
        self.0[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn read(&self) -> RequestCounts {
        let count = |kind: RequestKind| self.0[kind as usize].load(Ordering::Relaxed);
        RequestCounts {
            lists: count(RequestKind::List),
            gets: count(RequestKind::Get),
            creates: count(RequestKind::Create),
            updates: count(RequestKind::Update),
            deletes: count(RequestKind::Delete),
            other: count(RequestKind::Other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_method_and_path() {
        let connections = "/apiops/projects/P/connections/";
        let one = "/apiops/projects/P/connections/mail/";
        let cases = [
            (Method::GET, "/apiops/projects/", RequestKind::List),
            (Method::GET, connections, RequestKind::List),
            (Method::GET, one, RequestKind::Get),
            (Method::POST, one, RequestKind::Create),
            (Method::PUT, one, RequestKind::Update),
            (Method::DELETE, one, RequestKind::Delete),
            (Method::POST, "/apiops/auth/token", RequestKind::Other),
            (Method::GET, "/apiops/test/hello/x", RequestKind::Other),
        ];
        for (method, path, kind) in cases {
            assert_eq!(RequestKind::of(&method, path), kind, "{method} {path}");
        }
    }

    #[test]
    fn counts_add_up_and_subtract() {
        let counters = RequestCounters::default();
        for kind in [RequestKind::List, RequestKind::Get, RequestKind::Get] {
            counters.record(kind);
        }
        let earlier = counters.read();
        for kind in [RequestKind::Create, RequestKind::Update, RequestKind::Other] {
            counters.record(kind);
        }
        let now = counters.read();
        assert_eq!((now.total(), now.writes()), (6, 2));
        let since = now.since(&earlier);
        assert_eq!(
            (since.lists, since.gets, since.writes(), since.other),
            (0, 0, 2, 1)
        );
    }
}
