#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::pip::pip_decode(data));
