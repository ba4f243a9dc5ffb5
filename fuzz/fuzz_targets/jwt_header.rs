#![no_main]

// The check lives in the library so that the corpus replay test runs the same code.
libfuzzer_sys::fuzz_target!(|data: &[u8]| rivet_actor::__fuzz::jwt_header(data));
