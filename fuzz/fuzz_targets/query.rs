//! The query parser: any text the layer can be given as a query (`http::Uri` only holds UTF-8)
//! is read as `form_urlencoded` reads it, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|query: &str| {
    tower_tim_recall::fuzzing::query(query);
});
