//! The HTTP client against a fake OpenAI-compatible server started on 127.0.0.1.

pub(super) mod fake_server;

use super::response::split_by_length;
use super::*;
use crate::generate::Sampling;
use fake_server::{ok, status, Canned, FakeServer};
use tokio::net::TcpListener;

fn config(url: &str, chat: bool, api_key_env: Option<&str>) -> ModelConfig {
    let mut table = toml::Table::new();
    table.insert("kind".into(), "openai".into());
    table.insert("id".into(), "tiny-test-model".into());
    table.insert("url".into(), url.into());
    table.insert("chat".into(), chat.into());
    if let Some(var) = api_key_env {
        table.insert("api_key_env".into(), var.into());
    }
    toml::Value::Table(table)
        .try_into()
        .expect("a valid [model] table")
}

pub(super) fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

pub(super) fn request(samples: u32) -> GenRequest {
    GenRequest {
        problem_id: "gsm8k-7".into(),
        prompt: "What is 6 * 7?".into(),
        sample_indices: (10..10 + samples).collect(),
        sampling: Sampling {
            temperature: 0.6,
            top_p: 0.9,
            top_k: Some(20),
            max_tokens: 64,
            stop: vec!["\n\nQuestion:".into()],
            samples_per_problem: samples,
        },
    }
}

fn chat_choice(index: usize, text: &str, tokens: usize, finish: &str) -> Value {
    json!({
        "index": index,
        "message": {"role": "assistant", "content": text},
        "finish_reason": finish,
        "logprobs": {"content": (0..tokens).map(|i| json!({"token": format!("t{i}"), "logprob": -0.1})).collect::<Vec<_>>()},
    })
}

#[tokio::test]
async fn chat_request_sends_n_and_sampling_and_counts_tokens_per_choice() {
    let server = FakeServer::start(vec![ok(json!({
        "id": "x",
        "object": "chat.completion",
        // Out of order on purpose: choices are matched by index.
        "choices": [chat_choice(2, "c", 4, "length"), chat_choice(0, "a", 2, "stop"), chat_choice(1, "b", 3, "stop")],
        "usage": {"prompt_tokens": 11, "completion_tokens": 9, "total_tokens": 20},
    }))])
    .await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, Some("HOME"))).expect("builds");
    assert_eq!(generator.model_id(), "tiny-test-model");
    let out = generator.generate(&request(3)).await.expect("generates");

    let texts: Vec<(u32, &str, u32, &str)> = out
        .iter()
        .map(|c| {
            (
                c.sample_index,
                c.text.as_str(),
                c.completion_tokens,
                c.finish_reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        texts,
        [
            (10, "a", 2, "stop"),
            (11, "b", 3, "stop"),
            (12, "c", 4, "length")
        ]
    );
    assert!(out
        .iter()
        .all(|c| c.prompt_tokens == 11 && c.latency_ms > 0.0));

    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].request_line, "post /v1/chat/completions http/1.1");
    let home = std::env::var("HOME").expect("HOME is set").to_lowercase();
    assert!(seen[0]
        .headers
        .contains(&format!("authorization: bearer {home}")));
    let body = &seen[0].body;
    assert_eq!(body["model"], "tiny-test-model");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "What is 6 * 7?"}])
    );
    assert_eq!(body["n"], 3);
    assert_eq!(body["temperature"], 0.6);
    assert_eq!(body["top_p"], 0.9);
    assert_eq!(body["top_k"], 20);
    assert_eq!(body["max_tokens"], 64);
    assert_eq!(body["stop"], json!(["\n\nQuestion:"]));
    assert_eq!(body["logprobs"], true);
    assert_eq!(body["stream"], false);
}

#[tokio::test]
async fn raw_completion_uses_the_completions_route_and_usage_for_one_sample() {
    let server = FakeServer::start(vec![ok(json!({
        "object": "text_completion",
        "choices": [{"index": 0, "text": " 42. The answer is 42.", "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 8},
    }))])
    .await;
    let generator = OpenAiGenerator::new(&config(&server.url, false, None)).expect("builds");
    let out = generator.generate(&request(1)).await.expect("generates");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].sample_index, 10);
    assert_eq!(out[0].text, " 42. The answer is 42.");
    assert_eq!((out[0].prompt_tokens, out[0].completion_tokens), (7, 8));

    let seen = server.seen();
    assert_eq!(seen[0].request_line, "post /v1/completions http/1.1");
    assert!(!seen[0].headers.contains("authorization"));
    assert_eq!(seen[0].body["prompt"], "What is 6 * 7?");
    assert!(seen[0].body.get("logprobs").is_none());
    assert!(seen[0].body.get("messages").is_none());
}

#[tokio::test]
async fn without_logprobs_the_total_is_split_by_text_length() {
    let server = FakeServer::start(vec![ok(json!({
        "choices": [
            {"index": 0, "text": "aaaa", "finish_reason": "stop"},
            {"index": 1, "text": "aaaaaaaaaaaa", "finish_reason": "length"},
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 9},
    }))])
    .await;
    let generator = OpenAiGenerator::new(&config(&server.url, false, None)).expect("builds");
    let out = generator.generate(&request(2)).await.expect("generates");
    let counts: Vec<u32> = out.iter().map(|c| c.completion_tokens).collect();
    assert_eq!(counts.iter().sum::<u32>(), 9);
    assert!(counts[0] < counts[1], "{counts:?}");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let done = json!({
        "choices": [chat_choice(0, "ok", 1, "stop")],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1},
    });
    let server = FakeServer::start(vec![status(503), status(500), ok(done)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(4));
    let out = generator
        .generate(&request(1))
        .await
        .expect("third attempt succeeds");
    assert_eq!(out[0].text, "ok");
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let server = FakeServer::start(vec![status(502)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(3));
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(matches!(err, GenError::Request(_)), "{err}");
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn client_errors_fail_the_request_without_retrying() {
    let server = FakeServer::start(vec![status(400)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(4));
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(matches!(err, GenError::Request(_)), "{err}");
    assert!(err.to_string().contains("canned 400"), "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn a_rejected_api_key_stops_the_run() {
    let server = FakeServer::start(vec![status(401)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(4));
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(matches!(err, GenError::Fatal(_)), "{err}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn an_unreachable_server_is_fatal_after_retries() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    let generator = OpenAiGenerator::new(&config(&format!("http://{addr}/v1"), true, None))
        .expect("builds")
        .with_retry(fast_retries(2));
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(matches!(err, GenError::Fatal(_)), "{err}");
    assert!(err.to_string().contains("cannot reach"), "{err}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let slow = Canned {
        delay: Duration::from_secs(5),
        ..status(200)
    };
    let server = FakeServer::start(vec![slow]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(2))
        .with_timeout(Duration::from_millis(200))
        .expect("builds");
    let started = Instant::now();
    let err = generator.generate(&request(1)).await.expect_err("fails");
    assert!(matches!(err, GenError::Request(_)), "{err}");
    assert!(err.to_string().contains("did not answer in time"), "{err}");
    assert_eq!(server.seen().len(), 2);
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn a_wrong_number_of_choices_is_an_error() {
    let server = FakeServer::start(vec![ok(json!({
        "choices": [chat_choice(0, "a", 2, "stop"), chat_choice(1, "b", 2, "stop"), chat_choice(2, "c", 2, "stop")],
        "usage": {"prompt_tokens": 3, "completion_tokens": 6},
    }))])
    .await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None)).expect("builds");
    let err = generator.generate(&request(2)).await.expect_err("fails");
    assert!(err.to_string().contains("3 choices for n = 2"), "{err}");
}

pub(super) fn single(text: &str, completion_tokens: usize) -> Canned {
    ok(json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": completion_tokens},
    }))
}

#[tokio::test]
async fn a_server_that_ignores_n_gets_one_request_per_sample() {
    // Like llama-cpp-python: one choice whatever `n` says.
    let server = FakeServer::start(vec![single("first", 4), single("more", 6)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None)).expect("builds");
    let out = generator.generate(&request(3)).await.expect("generates");
    let got: Vec<(u32, &str, u32, u32)> = out
        .iter()
        .map(|c| {
            (
                c.sample_index,
                c.text.as_str(),
                c.prompt_tokens,
                c.completion_tokens,
            )
        })
        .collect();
    assert_eq!(
        got,
        [(10, "first", 5, 4), (11, "more", 5, 6), (12, "more", 5, 6)]
    );
    let seen = server.seen();
    let ns: Vec<u64> = seen.iter().filter_map(|s| s.body["n"].as_u64()).collect();
    assert_eq!(ns, [3, 1, 1]);
    assert!(seen[1].body.get("logprobs").is_none());

    // From now on: straight to one request per sample.
    generator.generate(&request(2)).await.expect("generates");
    let ns: Vec<u64> = server
        .seen()
        .iter()
        .filter_map(|s| s.body["n"].as_u64())
        .collect();
    assert_eq!(ns, [3, 1, 1, 1, 1]);
}

#[tokio::test]
async fn a_server_that_refuses_n_gets_one_request_per_sample() {
    // Like llama.cpp's server: 400 "Only one completion choice is allowed".
    let refused = Canned {
        status: 400,
        body: json!({"error": {"code": 400, "message": "Only one completion choice is allowed"}})
            .to_string(),
        delay: Duration::ZERO,
    };
    let server = FakeServer::start(vec![refused, single("x", 2)]).await;
    let generator = OpenAiGenerator::new(&config(&server.url, true, None))
        .expect("builds")
        .with_retry(fast_retries(3));
    let out = generator.generate(&request(2)).await.expect("generates");
    assert_eq!(out.len(), 2);
    assert!(out
        .iter()
        .all(|c| c.completion_tokens == 2 && c.prompt_tokens == 5));
    let ns: Vec<u64> = server
        .seen()
        .iter()
        .filter_map(|s| s.body["n"].as_u64())
        .collect();
    assert_eq!(ns, [2, 1, 1]);
}

#[test]
fn configuration_errors_are_load_errors() {
    let missing_key = config(
        "http://127.0.0.1:1/v1",
        true,
        Some("SMELT_TEST_SURELY_UNSET_KEY"),
    );
    let err = OpenAiGenerator::new(&missing_key).expect_err("fails");
    assert!(matches!(err, GenError::Load(_)));
    assert!(
        err.to_string().contains("SMELT_TEST_SURELY_UNSET_KEY"),
        "{err}"
    );

    let mut no_url = config("http://x", true, None);
    no_url.url = None;
    assert!(OpenAiGenerator::new(&no_url)
        .expect_err("fails")
        .to_string()
        .contains("model.url"));

    let bad_scheme = config("127.0.0.1:8000", true, None);
    assert!(OpenAiGenerator::new(&bad_scheme).is_err());
}

#[test]
fn endpoints_add_v1_only_when_the_url_has_no_path() {
    assert_eq!(
        endpoint("http://h:8000/v1", true),
        "http://h:8000/v1/chat/completions"
    );
    assert_eq!(
        endpoint("http://h:8000/v1/", false),
        "http://h:8000/v1/completions"
    );
    assert_eq!(
        endpoint("http://h:8000", true),
        "http://h:8000/v1/chat/completions"
    );
    assert_eq!(
        endpoint("https://api.example.com/openai/v1", true),
        "https://api.example.com/openai/v1/chat/completions"
    );
}

#[test]
fn split_by_length_keeps_the_total() {
    let mut choices: Vec<Choice> = ["a", "bb", "ccc"]
        .iter()
        .enumerate()
        .map(|(index, t)| Choice {
            index,
            text: (*t).into(),
            finish_reason: None,
            tokens: None,
            prompt_tokens: 0,
        })
        .collect();
    split_by_length(&mut choices, 10);
    let counts: Vec<usize> = choices.iter().map(|c| c.tokens.unwrap_or(0)).collect();
    assert_eq!(counts.iter().sum::<usize>(), 10);
    assert_eq!(counts, [2, 3, 5]);
}
