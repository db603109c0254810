//! What the engine generates: every sample answered with exact token counts, stop strings and
//! EOS, raw completion mode, batches that survive a dropped request or long varied prompts.

use super::*;
use mistralrs::StopTokens;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_chat_requests_return_every_sample_with_exact_accounting() {
    let spec = Spec {
        eos_bias: -30.0, // never stops: every sample runs to max_tokens
        ..Spec::new(Arch::Qwen2)
    };
    let dir = tiny(&spec);
    let cfg = model_config(dir.path(), true, None);
    let generator = Arc::new(
        MistralGenerator::load(&cfg, Path::new("/"))
            .await
            .expect("loads"),
    );
    assert_eq!(generator.model_id(), dir.path().to_string_lossy());

    let params = sampling(0.9, 12);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let generator = Arc::clone(&generator);
        let req = request(&format!("Question: what is {i} + {i}?"), 3, &params);
        tasks.spawn(async move {
            let out = generator.generate(&req).await;
            (req, out)
        });
    }
    let mut problems = 0;
    while let Some(joined) = tasks.join_next().await {
        let (req, out) = joined.expect("task ran");
        let completions = out.expect("generates");
        let indices: BTreeSet<u32> = completions.iter().map(|c| c.sample_index).collect();
        assert_eq!(indices, BTreeSet::from([0, 1, 2]));
        let expected_prompt = token_count(dir.path(), &chatml(&req.prompt));
        for c in &completions {
            assert_eq!(c.prompt_tokens, expected_prompt, "prompt tokens of {c:?}");
            assert_eq!(c.completion_tokens, 12, "{c:?}");
            assert_eq!(c.finish_reason, "length");
            assert!(!c.text.is_empty());
            assert!(c.latency_ms > 0.0);
        }
        problems += 1;
    }
    assert_eq!(problems, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_sequences_cut_the_text_and_finish_with_stop() {
    let dir = tiny(&Spec {
        eos_bias: -30.0,
        ..Spec::new(Arch::Qwen2)
    });
    let cfg = model_config(dir.path(), true, None);
    // No prefix cache, so that both greedy runs compute exactly the same way.
    let options = EngineOptions {
        max_num_seqs: 8,
        prefix_cache_n: None,
    };
    let generator = MistralGenerator::load_with(&cfg, Path::new("/"), &options)
        .await
        .expect("loads");

    let greedy = sampling(0.0, 40);
    let full = generator
        .generate(&request("What is 12 * 7?", 1, &greedy))
        .await
        .expect("generates")
        .remove(0);
    assert_eq!(full.finish_reason, "length");
    assert_eq!(full.completion_tokens, 40);

    // A stop string taken from the second half of the greedy text.
    let chars: Vec<(usize, char)> = full.text.char_indices().collect();
    let start = chars.len() / 2;
    let (from, to) = (
        chars[start].0,
        chars.get(start + 3).map_or(full.text.len(), |c| c.0),
    );
    let stop = full.text[from..to].to_owned();
    let first = full.text.find(&stop).expect("stop string occurs");
    let expected = full.text[..first].trim_start().to_owned();

    let with_stop = Sampling {
        stop: vec![stop.clone()],
        ..greedy
    };
    let cut = generator
        .generate(&request("What is 12 * 7?", 1, &with_stop))
        .await
        .expect("generates")
        .remove(0);
    assert_eq!(
        cut.text, expected,
        "stop = {stop:?}, full = {:?}",
        full.text
    );
    assert_eq!(cut.finish_reason, "stop");
    assert!(cut.completion_tokens < 40);
    assert!(!cut.text.contains(&stop));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eos_ends_a_sample_with_stop() {
    let dir = tiny(&Spec {
        eos_bias: 30.0, // EOS first
        ..Spec::new(Arch::Qwen2)
    });
    let cfg = model_config(dir.path(), true, None);
    let generator = MistralGenerator::load(&cfg, Path::new("/"))
        .await
        .expect("loads");
    let out = generator
        .generate(&request("Hi", 2, &sampling(0.7, 16)))
        .await
        .expect("generates");
    assert_eq!(out.len(), 2);
    for c in out {
        assert_eq!(c.finish_reason, "stop");
        assert_eq!(c.completion_tokens, 1);
        assert_eq!(c.text, "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_completion_mode_on_a_llama_model() {
    let dir = tiny(&Spec::new(Arch::Llama));
    let cfg = model_config(dir.path(), false, None);
    let generator = MistralGenerator::load(&cfg, Path::new("/"))
        .await
        .expect("loads");
    assert!(!generator.is_chat());
    let prompt = "Question: what is 3 + 4? Let's think step by step.";
    let out = generator
        .generate(&request(prompt, 2, &sampling(1.0, 8)))
        .await
        .expect("generates");
    assert_eq!(out.len(), 2);
    for c in out {
        assert_eq!(c.prompt_tokens, token_count(dir.path(), prompt));
        assert!((1..=8).contains(&c.completion_tokens), "{c:?}");
        match c.finish_reason.as_str() {
            "length" => assert_eq!(c.completion_tokens, 8),
            "stop" => {}
            other => panic!("unexpected finish reason {other}"),
        }
    }
}

#[test]
fn sampling_maps_onto_engine_parameters() {
    let s = Sampling {
        temperature: 0.0,
        top_p: 1.0,
        top_k: Some(0),
        max_tokens: 7,
        stop: vec!["\n\n".into()],
        samples_per_problem: 4,
    };
    let p = sampling_params(&s);
    assert_eq!(p.temperature, Some(0.0));
    assert_eq!(p.top_p, None);
    assert_eq!(p.top_k, None);
    assert_eq!(p.max_len, Some(7));
    assert_eq!(p.n_choices, 1);
    assert!(matches!(p.stop_toks, Some(StopTokens::Seqs(ref v)) if v == &["\n\n"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_request_does_not_fail_the_others_in_its_batch() {
    let dir = tiny(&Spec {
        eos_bias: -30.0,
        ..Spec::new(Arch::Qwen2)
    });
    let cfg = model_config(dir.path(), false, None);
    let generator = Arc::new(
        MistralGenerator::load(&cfg, Path::new("/"))
            .await
            .expect("loads"),
    );
    let params = sampling(0.8, 150);
    // Same prompt length, so that both requests run in one batch.
    let kept = request("Question: what is 11 + 22?", 2, &params);
    let dropped = request("Question: what is 11 + 22?", 2, &params);
    let g = Arc::clone(&generator);
    let survivor = tokio::spawn(async move { g.generate(&kept).await });
    let cut = tokio::time::timeout(Duration::from_millis(30), generator.generate(&dropped)).await;
    assert!(
        cut.is_err(),
        "the dropped request should still be running after 30 ms"
    );
    let out = survivor
        .await
        .expect("task ran")
        .expect("the other request still succeeds");
    assert_eq!(out.len(), 2);
    assert!(out
        .iter()
        .all(|c| c.completion_tokens == 150 && c.finish_reason == "length"));
    // The engine still serves new requests.
    let again = generator
        .generate(&request("1 + 1 =", 1, &sampling(0.8, 4)))
        .await
        .expect("generates");
    assert_eq!(again[0].completion_tokens, 4);
}

/// Prompts of ~340 tokens sharing a long tail, many in flight: the pattern that made
/// mistral.rs 0.8.1's prefix cache panic the engine thread (see `EngineOptions`).
async fn run_long_varied_prompts(options: &EngineOptions) -> Result<u64, GenError> {
    let dir = tiny(&Spec {
        eos_bias: -30.0,
        ..Spec::new(Arch::Qwen2)
    });
    let cfg = model_config(dir.path(), false, None);
    let generator = Arc::new(MistralGenerator::load_with(&cfg, Path::new("/"), options).await?);
    let tail = "\n\nWork it out step by step, following the order of operations (parentheses \
        first, then × and ÷ from left to right, then + and − from left to right). Write every \
        single calculation on its own line in the form `a op b = c`, for example `12 × 7 = 84`, \
        using exact integers only.\n\nFinish with the final answer alone in \\boxed{}, for \
        example \\boxed{-42}.";
    let prompts: Vec<String> = (0..24u64)
        .map(|i| {
            format!(
                "What is {} + {} * ({} - {})?{tail}",
                100 + i * 37,
                200 + i * i,
                i * 13 % 97,
                i % 7
            )
        })
        .collect();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let prompts = Arc::new(prompts);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (generator, next, prompts) = (
            Arc::clone(&generator),
            Arc::clone(&next),
            Arc::clone(&prompts),
        );
        workers.spawn(async move {
            let mut tokens = 0u64;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(prompt) = prompts.get(i) else {
                    return Ok::<_, GenError>(tokens);
                };
                let out = generator
                    .generate(&request(prompt, 1, &sampling(0.8, 32)))
                    .await?;
                tokens += out
                    .iter()
                    .map(|c| u64::from(c.completion_tokens))
                    .sum::<u64>();
            }
        });
    }
    let mut tokens = 0;
    while let Some(joined) = workers.join_next().await {
        tokens += joined.expect("worker ran")?;
    }
    Ok(tokens)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_varied_prompts_batch_without_crashing_the_engine() {
    let options = EngineOptions::for_config(&model_config(Path::new("x"), false, None));
    assert_eq!(
        options.prefix_cache_n, None,
        "the default keeps the prefix cache off"
    );
    let tokens = run_long_varied_prompts(&options)
        .await
        .expect("all requests succeed");
    assert_eq!(tokens, 24 * 32);
}
