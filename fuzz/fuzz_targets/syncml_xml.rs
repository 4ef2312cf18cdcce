#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| omadm_fuzz::syncml_xml(data));
