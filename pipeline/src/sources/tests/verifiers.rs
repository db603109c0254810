//! Generated problems against the built-in verifiers: a completion that boxes the reference is
//! accepted by the answer and SMT verifiers, one that boxes a wrong value is rejected.

use super::{generated, GENERATORS};
use crate::problem::Problem;
use crate::sources::exact::{parse_rat, rat_text};
use num_rational::BigRational;
use num_traits::One;
use smelt_verifiers::{
    AnswerConfig, AnswerVerifier, Sample, SmtConfig, SmtVerifier, Verdict, Verifier,
};

fn sample(p: &Problem, boxed: &str) -> Sample {
    Sample {
        id: p.id.clone(),
        problem: p.text.clone(),
        completion: format!("Working it out step by step.\nThe answer is \\boxed{{{boxed}}}."),
        reference: p.reference.clone(),
        constraints: p.constraints.clone(),
        structured: Some(p.structured.clone()),
        ..Sample::default()
    }
}

/// The reference with its last value increased by one.
fn wrong(reference: &str) -> String {
    let (head, last) = match reference.rsplit_once(" = ") {
        Some((head, last)) => (format!("{head} = "), last),
        None => (String::new(), reference),
    };
    let value = parse_rat(last).expect("a rational") + BigRational::one();
    format!("{head}{}", rat_text(&value))
}

fn verdict(v: &dyn Verifier, s: &Sample) -> Verdict {
    v.verify(s).unwrap_or_else(|e| panic!("{}: {e}", s.id))
}

#[test]
fn references_pass_and_wrong_answers_fail_the_builtin_verifiers() {
    let answer = AnswerVerifier::new(AnswerConfig::default()).expect("answer verifier");
    let smt = SmtVerifier::new(SmtConfig::default()).expect("smt verifier");
    let verifiers: [&dyn Verifier; 2] = [&answer, &smt];
    for kind in GENERATORS {
        for difficulty in 0..=5 {
            for index in 0..20 {
                let p = generated(kind, 11, difficulty, index);
                let reference = p.reference.clone().expect("a reference");
                for v in verifiers {
                    let right = verdict(v, &sample(&p, &reference));
                    assert!(right.is_accept(), "{}: {right:?}\n{p:#?}", v.name());
                    let bad = verdict(v, &sample(&p, &wrong(&reference)));
                    assert!(
                        !bad.is_accept(),
                        "{} accepts a wrong answer: {p:#?}",
                        v.name()
                    );
                }
            }
        }
    }
}
