//! Engine requests and responses: the sampling parameters and request shape smelt sends, the
//! start-up probe, and the translation of an engine response into a finished sample or an error.

use super::GenError;
use mistralrs::{
    Constraint, NormalRequest, Request, RequestMessage, Response, SamplingParams, StopTokens,
};
use tokio::sync::mpsc;

/// Generates one greedy token, so that a model that loads but cannot run (e.g. BF16 weights on
/// a CPU, which has no BF16 matmul) fails at start-up rather than on every request.
pub(crate) async fn probe(sender: &mpsc::Sender<Request>) -> Result<(), String> {
    let (tx, mut rx) = mpsc::channel(1);
    let request = normal_request(
        RequestMessage::Completion {
            text: "Hello".into(),
            echo_prompt: false,
            best_of: None,
        },
        SamplingParams {
            max_len: Some(1),
            ..SamplingParams::deterministic()
        },
        tx,
        0,
    );
    sender
        .send(Request::Normal(Box::new(request)))
        .await
        .map_err(|_| "the engine stopped".to_owned())?;
    let response = rx.recv().await.ok_or("the engine dropped the request")?;
    finished(response).map(drop).map_err(|e| match e {
        GenError::Load(m) | GenError::Request(m) | GenError::Fatal(m) => m,
    })
}

/// The engine's sampling parameters for one sample of `sampling`.
pub fn sampling_params(sampling: &crate::generate::Sampling) -> SamplingParams {
    SamplingParams {
        // The engine samples greedily below 1e-7.
        temperature: Some(sampling.temperature.max(0.0)),
        top_k: sampling.top_k.filter(|&k| k > 0),
        top_p: (sampling.top_p < 1.0).then_some(sampling.top_p),
        min_p: None,
        top_n_logprobs: 0,
        frequency_penalty: None,
        presence_penalty: None,
        repetition_penalty: None,
        stop_toks: (!sampling.stop.is_empty()).then(|| StopTokens::Seqs(sampling.stop.clone())),
        max_len: Some(sampling.max_tokens),
        logits_bias: None,
        n_choices: 1,
        dry_params: None,
    }
}

/// One finished sample, from either the chat or the completion response.
pub(crate) struct Finished {
    pub text: String,
    pub finish_reason: String,
    pub prompt_tokens: usize,
    pub completion_tokens: usize,
}

/// Turns an engine response into a finished sample or an error.
pub(crate) fn finished(response: Response) -> Result<Finished, GenError> {
    match response {
        Response::Done(r) => {
            let choice = r.choices.into_iter().next().ok_or_else(no_choice)?;
            Ok(Finished {
                text: choice.message.content.unwrap_or_default(),
                finish_reason: choice.finish_reason,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
            })
        }
        Response::CompletionDone(r) => {
            let choice = r.choices.into_iter().next().ok_or_else(no_choice)?;
            Ok(Finished {
                text: choice.text,
                finish_reason: choice.finish_reason,
                prompt_tokens: r.usage.prompt_tokens,
                completion_tokens: r.usage.completion_tokens,
            })
        }
        Response::ValidationError(e) => {
            let msg = first_line(&e.to_string()).to_owned();
            if msg.contains("does not have a chat template") {
                Err(GenError::Fatal(format!(
                    "the model has no chat template; set `model.chat = false` to send raw \
                     prompts ({msg})"
                )))
            } else {
                Err(GenError::Request(format!(
                    "mistral.rs rejected the request: {msg}"
                )))
            }
        }
        Response::InternalError(e) => Err(GenError::Request(format!(
            "mistral.rs: {}",
            first_line(&e.to_string())
        ))),
        Response::ModelError(msg, _) | Response::CompletionModelError(msg, _) => Err(
            GenError::Request(format!("mistral.rs model error: {}", first_line(&msg))),
        ),
        Response::Chunk(_)
        | Response::CompletionChunk(_)
        | Response::ImageGeneration(_)
        | Response::Speech { .. }
        | Response::Raw { .. }
        | Response::Embeddings { .. } => Err(GenError::Request(
            "mistral.rs answered a text request with another kind of response".into(),
        )),
    }
}

/// The message of an engine error without the backtrace candle appends when
/// `RUST_BACKTRACE` is set.
pub(super) fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(text)
}

fn no_choice() -> GenError {
    GenError::Request("mistral.rs returned a response without choices".into())
}

pub(super) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A plain (no tools, no constraint, not streamed) engine request: the one shape smelt and the
/// engine bench send.
pub fn normal_request(
    messages: RequestMessage,
    sampling_params: SamplingParams,
    response: mpsc::Sender<Response>,
    id: usize,
) -> NormalRequest {
    NormalRequest {
        messages,
        sampling_params,
        response,
        return_logprobs: false,
        is_streaming: false,
        id,
        constraint: Constraint::None,
        suffix: None,
        tools: None,
        tool_choice: None,
        logits_processors: None,
        return_raw_logits: false,
        web_search_options: None,
        model_id: None,
        truncate_sequence: false,
    }
}
