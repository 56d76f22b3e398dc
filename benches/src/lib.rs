//! What the criterion benches (`benches/benches/`) and the instruction counter
//! (`benches/examples/instructions.rs`) share: the samples and the contenders, so that the times
//! and the instruction counts in `benches/RESULTS.md` measure exactly the same code.

pub mod http;
