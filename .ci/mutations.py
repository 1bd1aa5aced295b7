#!/usr/bin/env python3
"""The hand mutation check: does each rule of the layer have a test that fails without it?

Each mutation below breaks one rule of the decision table, or one edge of it, by changing one
exact piece of the crate's source. For each, the script applies it, runs the crate's tests
(the examples built, then `cargo test -p tower-tim-recall --all-features --lib --tests
--no-fail-fast`), puts the source back and prints which test targets failed. A mutation that
no target catches is a rule without a test; the script then exits 1.

Not part of CI: it rebuilds the crate's tests once per mutation (15 to 40 seconds each on two
cores, some 10 minutes in all). Run it by hand after changing the tests or the rules, from the repository root:

    python3 .ci/mutations.py            # every mutation
    python3 .ci/mutations.py window     # those whose name contains "window"

A mutation whose text is no longer found exactly once in its file stops the script: the
source moved on, and the mutation must be written again against it.
"""

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

# (name, file, the exact source text, what it becomes)
MUTATIONS = [
    ("method: a recall may be sent with any method but DELETE", "src/policy.rs",
     "if method != Method::POST {", "if method == Method::DELETE {"),
    ("app: an app not allowed takes the first allowed app's credentials", "src/policy.rs",
     "let credentials = self.credentials(app).ok_or(Rejection::APP_NOT_ALLOWED)?;",
     "let credentials = self.credentials(app).or(self.apps.first().map(|(_, c)| c))"
     ".ok_or(Rejection::APP_NOT_ALLOWED)?;"),
    ("app: ':' is a decimal digit", "src/protocol/digits.rs",
     "if digit > 9 {", "if digit > 10 {"),
    ("signature: any token of the set is ignored but the first", "src/protocol/signature.rs",
     "let matched = self.0.iter().fold(", "let matched = self.0.iter().take(1).fold("),
    ("signature: a Sign longer than 64 digits is cut", "src/protocol/signature.rs",
     "if bytes.len() != 64 {", "if bytes.len() < 64 {"),
    ("signature: a RequestTime with a leading zero is taken", "src/protocol/signature.rs",
     "let leading_zero = text.len() > 1 && text.starts_with('0');", "let leading_zero = false;"),
    ("window: max_age is one second longer", "src/protocol/signature.rs",
     "if time < self.now && self.now - time > self.max_age {",
     "if time < self.now && self.now - time > self.max_age.saturating_add(1) {"),
    ("window: max_ahead is one second longer", "src/protocol/signature.rs",
     "if time > self.now && time - self.now > self.max_ahead {",
     "if time > self.now && time - self.now > self.max_ahead.saturating_add(1) {"),
    ("window: the body may complete one second after the window", "src/future.rs",
     "Some(end) if self.clock.now_secs() > end =>",
     "Some(end) if self.clock.now_secs() > end.saturating_add(1) =>"),
    ("query: a repeated command is taken", "src/policy.rs",
     "query.check_command()?;", "query.check_command().ok();"),
    ("query: a contenttype other than json is taken", "src/policy.rs",
     "query.check_content_type()?;", "query.check_content_type().ok();"),
    ("query: contenttype is compared case-sensitively", "src/protocol/query.rs",
     'Param::Once(value) if value.eq_ignore_ascii_case("json") => Ok(()),',
     'Param::Once(value) if value == "json" => Ok(()),'),
    ("query: an escaped recall command is not recognised", "src/protocol/query.rs",
     "false => decodes_to(value, kind.command()),", "false => false,"),
    ("guard: another command is never verified", "src/protocol/query.rs",
     "if is_other && !(guard && scanned.commands > 0) {", "if is_other {"),
    ("size: a declared length one byte over the limit is read", "src/policy.rs",
     "Some(length) => length > limit,", "Some(length) => length > limit + 1,"),
    ("size: Content-Length is not looked at", "src/policy.rs",
     "declared_length(headers).is_some_and(|length| length > limit)",
     "declared_length(headers).is_some_and(|length| length > u64::MAX - 1)"),
    ("size: the body may stream one byte past the limit", "src/body_buffer.rs",
     "if total > self.limit {", "if total > self.limit + 1 {"),
    ("body: a body that fails mid-stream is taken as complete", "src/future.rs",
     "Some(Err(_)) => return Poll::Ready(Err(Rejection::BODY_UNREADABLE)),",
     "Some(Err(_)) => return Poll::Ready(Ok(())),"),
    ("body: an array body is read as a struct", "src/protocol/body_shape.rs",
     "if first != Some(&b'{') {", "if first == Some(&b'\"') {"),
    ("body: one level deeper than serde_json parses", "src/protocol/body_shape.rs",
     "const MAX_NESTING: usize = 127;", "const MAX_NESTING: usize = 128;"),
    ("body: an escaped quote ends a string when nesting is counted",
     "src/protocol/body_shape.rs",
     "b'\\\\' => {\n                bytes.next();\n            }", "b'\\\\' => {}"),
    ("body: the body's command is not compared with the query's", "src/protocol/event.rs",
     "Some(command) if command != B::KIND.command() => return Err(mismatch()),",
     "Some(command) if command.is_empty() => return Err(mismatch()),"),
    ("messages: one message more than max_messages is taken", "src/future.rs",
     "Some(max) if event.dedup_keys().nth(max).is_some()",
     "Some(max) if event.dedup_keys().nth(max + 1).is_some()"),
    ("forward: the verified context of another command is not inserted", "src/service.rs",
     "request.extensions_mut().insert(verified);", "let _ = verified;"),
    ("forward: a fresh clone is called, not the service made ready", "src/service.rs",
     "Next::Forward(mem::replace(&mut self.inner, clone))", "Next::Forward(clone)"),
]

# The example binaries first: `tests/examples.rs` runs them, and `cargo test --examples` would
# build them as test harnesses instead.
BUILD = ["cargo", "build", "-p", "tower-tim-recall", "--all-features", "--examples"]
COMMAND = ["cargo", "test", "-p", "tower-tim-recall", "--all-features",
           "--lib", "--tests", "--no-fail-fast"]


def run_tests():
    """Runs the tests; returns (compiled, the targets that failed)."""
    built = subprocess.run(BUILD, capture_output=True, text=True)
    if built.returncode != 0:
        return False, []
    done = subprocess.run(COMMAND, capture_output=True, text=True)
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return True, []
    if "could not compile" in output:
        return False, []
    failed = re.findall(r"^\s+`(?:-p \S+ )?(--lib|--test [^`]+)`", output, re.MULTILINE)
    if not failed:
        failed = ["(failed, no target named: see the output)"]
    return True, sorted(set(failed))


def stop(signum, _frame):
    # Raised where the script is, so that `finally` puts the source back.
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    signal.signal(signal.SIGTERM, stop)
    wanted = sys.argv[1:]
    chosen = [m for m in MUTATIONS if not wanted or any(w in m[0] for w in wanted)]
    print(f"baseline: {' '.join(BUILD)}; {' '.join(COMMAND)}", flush=True)
    compiled, failed = run_tests()
    if not compiled or failed:
        sys.exit(f"the tests fail without a mutation: {failed}")
    survivors = 0
    regressions = set(Path("tests").glob("*.proptest-regressions"))
    for name, file, old, new in chosen:
        path = Path(file)
        source = path.read_text()
        if source.count(old) != 1:
            sys.exit(f"{name}: the text is not in {file} exactly once; write it again")
        started = time.monotonic()
        try:
            path.write_text(source.replace(old, new))
            compiled, failed = run_tests()
        finally:
            path.write_text(source)
            # proptest keeps the failing case it found; it belongs to the mutation.
            for kept in Path("tests").glob("*.proptest-regressions"):
                if kept not in regressions:
                    kept.unlink()
        took = time.monotonic() - started
        if not compiled:
            sys.exit(f"{name}: does not compile; write it again")
        verdict = ", ".join(failed) if failed else "SURVIVED"
        survivors += not failed
        print(f"{name}  [{took:.0f} s]\n    caught by: {verdict}", flush=True)
    print(f"{len(chosen)} mutations, {len(chosen) - survivors} caught, {survivors} survived")
    sys.exit(1 if survivors else 0)


if __name__ == "__main__":
    main()
