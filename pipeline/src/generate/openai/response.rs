//! Reading a server's answer: the chat and completion response bodies, turned into choices
//! with per-choice token counts (from logprobs, or estimated from the total by text length).

use super::transport::snippet;
use super::{GenError, OpenAiGenerator};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::sync::atomic::Ordering;

impl OpenAiGenerator {
    pub(super) fn parse(&self, bytes: &[u8]) -> Result<Vec<Choice>, GenError> {
        let bad = |e: serde_json::Error| {
            GenError::Request(format!(
                "{} returned an unexpected body ({e}): {}",
                self.endpoint(),
                snippet(bytes)
            ))
        };
        let (mut choices, usage) = if self.chat {
            let r: ChatResponse = serde_json::from_slice(bytes).map_err(bad)?;
            let choices = r
                .choices
                .into_iter()
                .enumerate()
                .map(|(pos, c)| Choice {
                    index: c.index.unwrap_or(pos),
                    text: c.message.content.unwrap_or_default(),
                    finish_reason: c.finish_reason,
                    tokens: c.logprobs.and_then(|l| l.content).map(|t| t.len()),
                    prompt_tokens: 0,
                })
                .collect::<Vec<_>>();
            (choices, r.usage)
        } else {
            let r: TextResponse = serde_json::from_slice(bytes).map_err(bad)?;
            let choices = r
                .choices
                .into_iter()
                .enumerate()
                .map(|(pos, c)| Choice {
                    index: c.index.unwrap_or(pos),
                    text: c.text,
                    finish_reason: c.finish_reason,
                    tokens: c.logprobs.and_then(|l| l.tokens).map(|t| t.len()),
                    prompt_tokens: 0,
                })
                .collect::<Vec<_>>();
            (choices, r.usage)
        };
        choices.sort_by_key(|c| c.index);
        let usage = usage.unwrap_or_default();
        self.account(&mut choices, &usage);
        Ok(choices)
    }

    /// Fills in per-choice token counts.
    fn account(&self, choices: &mut [Choice], usage: &Usage) {
        let prompt = usage.prompt_tokens;
        if let [only] = choices {
            only.prompt_tokens = prompt;
            only.tokens = Some(usage.completion_tokens);
            return;
        }
        let counted = choices.iter().all(|c| c.tokens.is_some());
        if !counted {
            if !self.warned_estimate.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    endpoint = %self.endpoint(),
                    "the server returned no per-token logprobs with n > 1; per-sample \
                     completion tokens are estimated by splitting the total by text length"
                );
            }
            split_by_length(choices, usage.completion_tokens);
        }
        for c in choices.iter_mut() {
            c.prompt_tokens = prompt;
        }
    }
}

pub(super) struct Choice {
    pub(super) index: usize,
    pub(super) text: String,
    pub(super) finish_reason: Option<String>,
    pub(super) tokens: Option<usize>,
    pub(super) prompt_tokens: usize,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<ChatChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct ChatChoice {
    #[serde(default)]
    index: Option<usize>,
    message: ChatMessage,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<ChatLogprobs>,
}

#[derive(Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ChatLogprobs {
    #[serde(default)]
    content: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
struct TextResponse {
    choices: Vec<TextChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct TextChoice {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    logprobs: Option<TextLogprobs>,
}

#[derive(Deserialize)]
struct TextLogprobs {
    #[serde(default)]
    tokens: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize, Default)]
struct Usage {
    #[serde(default)]
    prompt_tokens: usize,
    #[serde(default)]
    completion_tokens: usize,
}

/// Splits `total` over the choices in proportion to their text length (largest remainder).
pub(super) fn split_by_length(choices: &mut [Choice], total: usize) {
    let lengths: Vec<usize> = choices
        .iter()
        .map(|c| c.text.chars().count().max(1))
        .collect();
    let sum: usize = lengths.iter().sum();
    let mut shares: Vec<(usize, usize, usize)> = lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let exact = total * len;
            (i, exact / sum, exact % sum)
        })
        .collect();
    let mut left = total - shares.iter().map(|s| s.1).sum::<usize>();
    shares.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    for share in shares.iter_mut() {
        if left == 0 {
            break;
        }
        share.1 += 1;
        left -= 1;
    }
    for (i, count, _) in shares {
        choices[i].tokens = Some(count);
    }
}

pub(super) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
