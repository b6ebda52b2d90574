//! What one run learns about single GETs (DESIGN.md 3). The docs contradict themselves on
//! whether a GET returns the fields a list answers `null` (secrets, masked content), so
//! for each (type, hidden field) the reader GETs connections whose desired state sets it
//! until one answers with a value (then every connection that needs the field is fetched)
//! or [`PROBES`] answer `null` (then the field is write-only on this server for this run:
//! no more GETs for it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// How many `null` answers make a field write-only for the run.
pub(crate) const PROBES: u8 = 3;

/// What is known about one (type, field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// Still learning: `nulls` GETs answered null, `in_flight` are under way.
    Probing { nulls: u8, in_flight: u8 },
    /// A GET answered a value: fetch every connection that needs it.
    Readable,
    /// [`PROBES`] GETs answered null: no more GETs for it.
    WriteOnly,
}

impl Field {
    const NEW: Field = Field::Probing {
        nulls: 0,
        in_flight: 0,
    };

    /// Whether one more probe may start without exceeding [`PROBES`] answers.
    fn has_room(self) -> bool {
        matches!(self, Field::Probing { nulls, in_flight } if nulls + in_flight < PROBES)
    }
}

/// The run's knowledge, shared by every project's reader.
#[derive(Debug, Default)]
pub(crate) struct GetLearner {
    known: Mutex<Known>,
}

/// What is known, and how to wake the connections of a type waiting for it to change.
#[derive(Debug, Default)]
struct Known {
    fields: HashMap<(String, String), Field>,
    /// One per type: a probe's answer wakes only connections of its own type (tens of
    /// thousands may wait in a large run).
    changed: HashMap<String, Arc<Notify>>,
}

impl Known {
    fn state(&self, kind: &str, field: &str) -> Field {
        *self.fields.get(&key(kind, field)).unwrap_or(&Field::NEW)
    }

    fn changed(&mut self, kind: &str) -> Arc<Notify> {
        Arc::clone(self.changed.entry(kind.to_string()).or_default())
    }
}

/// A GET the reader should make for a connection that needs `fields`; report its answer
/// with [`Get::answered`]. Dropped unanswered (the GET failed, or found nothing), it frees
/// its probe slots for another connection.
#[derive(Debug)]
pub(crate) struct Get {
    learner: Arc<GetLearner>,
    kind: String,
    /// The fields this GET probes (still being learnt when it started).
    probing: Vec<String>,
}

impl GetLearner {
    fn lock(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a connection of `kind` that needs the hidden `fields` is worth a GET: waits
    /// while every field it needs is being probed by other GETs, and answers `None` once
    /// all of them are write-only.
    pub(crate) async fn decide(self: &Arc<Self>, kind: &str, fields: &[String]) -> Option<Get> {
        let changed = self.lock().changed(kind);
        loop {
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.try_decide(kind, fields) {
                Decided::Get(get) => return Some(get),
                Decided::Skip => return None,
                Decided::Wait => notified.await,
            }
        }
    }

    fn try_decide(self: &Arc<Self>, kind: &str, fields: &[String]) -> Decided {
        let mut known = self.lock();
        let states: Vec<Field> = fields.iter().map(|f| known.state(kind, f)).collect();
        let readable = states.contains(&Field::Readable);
        if !readable && states.iter().all(|s| *s == Field::WriteOnly) {
            return Decided::Skip;
        }
        if !readable && !states.iter().any(|s| s.has_room()) {
            return Decided::Wait;
        }
        let mut probing = Vec::new();
        for (field, state) in fields.iter().zip(states) {
            if let Field::Probing { nulls, in_flight } = state {
                let in_flight = in_flight + 1;
                let probing_one_more = Field::Probing { nulls, in_flight };
                known.fields.insert(key(kind, field), probing_one_more);
                probing.push(field.clone());
            }
        }
        Decided::Get(Get {
            learner: Arc::clone(self),
            kind: kind.to_string(),
            probing,
        })
    }
}

enum Decided {
    Get(Get),
    Skip,
    Wait,
}

impl Get {
    /// Records the GET's answer: `returned(field)` tells whether it held a value for the
    /// field.
    pub(crate) fn answered(mut self, returned: impl Fn(&str) -> bool) {
        let probing = std::mem::take(&mut self.probing);
        if !probing.is_empty() {
            self.learner.settle(&self.kind, &probing, Some(&returned));
        }
    }
}

impl Drop for Get {
    fn drop(&mut self) {
        if !self.probing.is_empty() {
            self.learner.settle(&self.kind, &self.probing, None);
        }
    }
}

impl GetLearner {
    /// Ends the probes of `fields`; `returned` is None when the GET gave no answer.
    fn settle(&self, kind: &str, fields: &[String], returned: Option<&dyn Fn(&str) -> bool>) {
        let mut known = self.lock();
        for field in fields {
            let slot = known.fields.entry(key(kind, field)).or_insert(Field::NEW);
            let Field::Probing { nulls, in_flight } = *slot else {
                continue;
            };
            let in_flight = in_flight.saturating_sub(1);
            *slot = match returned {
                Some(returned) if returned(field) => Field::Readable,
                Some(_) if nulls + 1 >= PROBES => Field::WriteOnly,
                Some(_) => Field::Probing {
                    nulls: nulls + 1,
                    in_flight,
                },
                None => Field::Probing { nulls, in_flight },
            };
        }
        let changed = known.changed(kind);
        drop(known);
        changed.notify_waiters();
    }

    /// The fields found write-only this run, as `type.field`, sorted.
    #[cfg(test)]
    fn write_only(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .lock()
            .fields
            .iter()
            .filter(|(_, state)| **state == Field::WriteOnly)
            .map(|((kind, field), _)| format!("{kind}.{field}"))
            .collect();
        out.sort();
        out
    }
}

fn key(kind: &str, field: &str) -> (String, String) {
    (kind.to_string(), field.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn three_nulls_make_a_field_write_only_and_later_connections_wait_then_skip() {
        let learner = Arc::new(GetLearner::default());
        let password = fields(&["password"]);
        let mut probes = Vec::new();
        for _ in 0..PROBES {
            probes.push(learner.decide("ldap", &password).await.expect("a probe"));
        }
        let waiting = {
            let learner = Arc::clone(&learner);
            let password = password.clone();
            tokio::spawn(async move { learner.decide("ldap", &password).await.is_some() })
        };
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a fourth GET waits for the probes");
        for probe in probes {
            probe.answered(|_| false);
        }
        assert!(!waiting.await.unwrap(), "then it is not made");
        assert_eq!(learner.write_only(), ["ldap.password"]);
        assert!(learner.decide("ldap", &password).await.is_none());
        assert!(learner.decide("ftp", &password).await.is_some(), "per type");
    }

    #[tokio::test]
    async fn one_value_makes_every_connection_that_needs_the_field_fetched() {
        let learner = Arc::new(GetLearner::default());
        let password = fields(&["password"]);
        let first = learner.decide("email", &password).await.unwrap();
        first.answered(|_| true);
        for _ in 0..10 {
            let get = learner.decide("email", &password).await.expect("fetched");
            get.answered(|_| false);
        }
        assert!(learner.write_only().is_empty());
    }

    #[tokio::test]
    async fn an_unanswered_probe_frees_its_slot() {
        let learner = Arc::new(GetLearner::default());
        let password = fields(&["password"]);
        for _ in 0..PROBES {
            drop(learner.decide("snmp", &password).await.unwrap());
        }
        let probes: Vec<Get> =
            futures::future::join_all((0..PROBES).map(|_| learner.decide("snmp", &password)))
                .await
                .into_iter()
                .map(Option::unwrap)
                .collect();
        assert_eq!(probes.len(), usize::from(PROBES));
    }

    #[tokio::test]
    async fn a_connection_needing_a_readable_and_a_write_only_field_is_fetched() {
        let learner = Arc::new(GetLearner::default());
        let both = fields(&["a", "b"]);
        for _ in 0..PROBES {
            let get = learner.decide("t", &both).await.unwrap();
            get.answered(|field| field == "a");
        }
        assert_eq!(learner.write_only(), ["t.b"]);
        assert!(learner.decide("t", &both).await.is_some());
        assert!(learner.decide("t", &fields(&["b"])).await.is_none());
    }
}
