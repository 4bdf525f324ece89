//! Everything around a training run shared by the three applications: data
//! and batching, the loop, optimisers and schedules, checkpoints, history
//! plots and progress display.
