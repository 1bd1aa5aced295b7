//! `tim-recall-relay dump --journal PATH`: every journal entry as one JSON line, in order.
//! It reads on a connection of its own; with WAL, a reader never blocks the relay's writer.

use std::io::Write;
use std::path::Path;

use tower_tim_recall_handoff::{JournalReader, StoredEntry};

/// Entries read per query.
const PAGE: usize = 1000;

/// Why `dump` stopped early.
#[derive(Debug)]
pub(crate) enum DumpError {
    /// The journal could not be opened: exit 2.
    Open(String),
    /// Reading or writing failed: exit 1.
    Read(String),
}

/// Prints the journal at `path` on `out`.
pub(crate) fn dump(path: &Path, out: &mut impl Write) -> Result<(), DumpError> {
    // A reader would create an empty file where there is none: say there is none.
    if !path.exists() {
        return Err(DumpError::Open(format!("no journal at {}", path.display())));
    }
    let reader = JournalReader::open(path).map_err(|e| DumpError::Open(e.to_string()))?;
    let mut position = 0;
    loop {
        let entries = reader
            .read_after(position, PAGE)
            .map_err(|e| DumpError::Read(e.to_string()))?;
        let Some(last) = entries.last() else {
            break;
        };
        position = last.position;
        for entry in &entries {
            match out.write_all(&line(entry)) {
                Ok(()) => {}
                // The reader went away (`| head`): that is the end.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                Err(error) => return Err(DumpError::Read(error.to_string())),
            }
        }
    }
    match out.flush() {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(DumpError::Read(error.to_string()))
        }
        _ => Ok(()),
    }
}

/// One entry: `position`, then the entry's fields as the relay prints them (`key` and `event`
/// as JSON values, `body` as the string Tencent sent), then what became of it.
fn line(entry: &StoredEntry) -> Vec<u8> {
    let mut line = Vec::with_capacity(entry.event.len() + entry.body.len() + 256);
    line.extend_from_slice(format!("{{\"position\":{},\"key\":", entry.position).as_bytes());
    json_or_string(&mut line, &entry.key);
    line.extend_from_slice(b",\"event\":");
    json_or_string(&mut line, &entry.event);
    line.extend_from_slice(b",\"body\":");
    let _ = serde_json::to_writer(&mut line, &entry.body);
    let optional = |value: Option<u64>| value.map_or("null".to_owned(), |v| v.to_string());
    line.extend_from_slice(
        format!(
            ",\"received\":{},\"conflict\":{},\"spilled\":{},\"forwarded\":{},\"done\":{}}}\n",
            entry.received,
            entry.conflict,
            entry.spilled,
            optional(entry.forwarded),
            optional(entry.done),
        )
        .as_bytes(),
    );
    line
}

/// `text` as the JSON value it holds; as a string if it holds none or spans lines (a row
/// written by hand).
fn json_or_string(line: &mut Vec<u8>, text: &str) {
    match serde_json::from_str::<&serde_json::value::RawValue>(text) {
        Ok(raw) if !raw.get().contains('\n') => line.extend_from_slice(raw.get().as_bytes()),
        _ => {
            let _ = serde_json::to_writer(line, text);
        }
    }
}
