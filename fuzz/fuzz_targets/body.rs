//! The body parser: any bytes are accepted only as an event `serde_json` agrees with, and never
//! cause a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    tower_tim_recall::fuzzing::body(body);
});
