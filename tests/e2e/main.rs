//! End-to-end tests: they run the real `smelt` binary on configs written to temp dirs.

mod adaptive;
mod batch;
mod common;
mod curation;
mod engine;
mod export;
mod loaders;
mod propose;
mod real_model;
mod shards;
mod slurm;
mod spine;
#[path = "../support/tiny_model.rs"]
mod tiny_model;
mod verify;
