//! The start-up self-test: greedy completions of different prompts sent together must equal
//! the same prompts sent one at a time.
//!
//! An engine that mixes the sequences of a batch (mistral.rs 0.8.1 did on CPU, see
//! `vendor/mistralrs-core/SMELT-PATCH.md`) writes plausible-looking text that belongs to the
//! wrong prompt, and no verifier can tell. So every run that loads a model checks it first
//! (`model.self_test`, on by default): a few short prompts, some of equal token length so that
//! engines which batch only equal lengths batch them, greedy, a few tokens each.

use super::{GenError, GenRequest, Generator, Sampling};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prompts of the self-test: different texts, pairs of (probably) equal token length.
pub const PROMPTS: [&str; 8] = [
    "What is 12 plus 30? Answer briefly.",
    "What is 45 plus 17? Answer briefly.",
    "Name three colours of the rainbow.",
    "Name three animals that live in water.",
    "Write one sentence about the sea.",
    "Write one sentence about a mountain.",
    "Count from one to five in words, separated by commas.",
    "Explain in one sentence why the sky looks blue during the day.",
];

/// Tokens generated per prompt.
pub const MAX_TOKENS: usize = 24;

/// What the self-test saw.
#[derive(Debug, Clone, PartialEq)]
pub struct SelfTest {
    pub serial: Vec<String>,
    pub batched: Vec<String>,
    pub elapsed: Duration,
}

impl SelfTest {
    /// Indices of the prompts whose batched completion differs from the serial one.
    pub fn mismatches(&self) -> Vec<usize> {
        (0..self.serial.len())
            .filter(|&i| self.serial.get(i) != self.batched.get(i))
            .collect()
    }

    /// Ok, or a load error that shows the first difference.
    pub fn verdict(&self) -> Result<(), GenError> {
        let bad = self.mismatches();
        let Some(&first) = bad.first() else {
            return Ok(());
        };
        let show = |v: &[String]| v.get(first).map(|t| snippet(t)).unwrap_or_default();
        Err(GenError::Load(format!(
            "self-test failed: {} of {} greedy completions differ when the prompts run together \
             instead of one at a time, so the engine mixes the sequences of a batch and would \
             write blended data. Prompt {first:?}: alone {:?}, batched {:?}. Use a backend that \
             batches correctly (kind = \"llama_server\"), or `model.max_in_flight = 1`; \
             `model.self_test = false` skips this check",
            bad.len(),
            self.serial.len(),
            show(&self.serial),
            show(&self.batched),
        )))
    }
}

/// Runs `prompts` greedily one at a time, then all at once, and returns both sets of texts.
pub async fn run(
    generator: &Arc<dyn Generator>,
    prompts: &[&str],
    max_tokens: usize,
) -> Result<SelfTest, GenError> {
    let start = Instant::now();
    let requests: Vec<GenRequest> = prompts
        .iter()
        .enumerate()
        .map(|(i, p)| request(i, p, max_tokens))
        .collect();
    let mut serial = Vec::with_capacity(requests.len());
    for req in &requests {
        serial.push(first_text(generator.generate(req).await?));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, req) in requests.into_iter().enumerate() {
        let generator = Arc::clone(generator);
        tasks.spawn(async move { (i, generator.generate(&req).await) });
    }
    let mut batched = vec![String::new(); prompts.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, done) =
            joined.map_err(|e| GenError::Load(format!("self-test task failed: {e}")))?;
        if let Some(slot) = batched.get_mut(i) {
            *slot = first_text(done?);
        }
    }
    Ok(SelfTest {
        serial,
        batched,
        elapsed: start.elapsed(),
    })
}

fn request(i: usize, prompt: &str, max_tokens: usize) -> GenRequest {
    GenRequest {
        problem_id: format!("self-test-{i}"),
        prompt: prompt.to_owned(),
        sample_indices: vec![0],
        sampling: Sampling {
            temperature: 0.0,
            top_p: 1.0,
            top_k: None,
            max_tokens,
            stop: Vec::new(),
            samples_per_problem: 1,
        },
    }
}

fn first_text(done: Vec<super::Completion>) -> String {
    done.into_iter().next().map(|c| c.text).unwrap_or_default()
}

fn snippet(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}
