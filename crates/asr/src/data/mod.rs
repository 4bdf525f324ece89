//! What the recogniser reads besides audio: JSONL manifests of utterances
//! (`manifest`) and the character vocabulary with its text normalisation
//! (`vocab`).
pub mod manifest;
pub mod vocab;
