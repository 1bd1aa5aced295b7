//! What became of a recall: [`Outcome`] for each of its messages, [`Handed`] for the whole.

/// What became of one recalled message's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Outcome {
    /// Its key was not claimed within the window: the entry was stored.
    #[default]
    New,
    /// Its key was claimed with the same content: a retry, not stored again.
    Duplicate,
    /// Its key was claimed with other content: stored beside the first, marked as a conflict,
    /// and logged at `WARN`.
    Conflict,
}

/// Where a recall was made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Store {
    /// The journal, the destination of a handoff without Redis.
    Journal,
    /// The Redis stream.
    Stream,
    /// The local journal, because Redis did not answer in time: the forwarder moves the entries
    /// to the stream once Redis answers again, where the claims decide anew.
    Spilled,
}

/// A recall made durable: where, and each message's outcome in the body's order. This is the
/// handoff's response; the layer answers `OK` for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Handed {
    /// Where the entries are.
    pub store: Store,
    /// One outcome per recalled message.
    pub outcomes: Vec<Outcome>,
}

impl Handed {
    /// How many of the messages had `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.outcomes.iter().filter(|&&o| o == outcome).count()
    }
}
