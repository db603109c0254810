//! `word_problem`: short stories rendered from templates (shopping, rates, sharing, discounts,
//! baking, ages), each with an integer answer computed exactly from the drawn quantities.
//! Quantities are small (well inside `i64`); every division in a template is exact by
//! construction.
//!
//! Structured form: `{"kind":"word_problem","template":"sharing","quantities":{"total":"23",
//! "keep":"3","friends":"4","each":"5"},"answer":"5"}`; quantity names per template are listed
//! in [`TEMPLATES`].

use super::exact::smt_int_answer;
use super::generator::Generated;
use super::seed::{int, pick};
use num_bigint::BigInt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

/// The template names.
pub const TEMPLATES: [&str; 7] = [
    "shopping",
    "travel",
    "fill_time",
    "sharing",
    "discount",
    "bakery",
    "ages",
];

struct Person {
    name: &'static str,
    subject: &'static str,
    object: &'static str,
}

const PEOPLE: [Person; 8] = [
    Person {
        name: "Ana",
        subject: "she",
        object: "her",
    },
    Person {
        name: "Ben",
        subject: "he",
        object: "him",
    },
    Person {
        name: "Chen",
        subject: "he",
        object: "him",
    },
    Person {
        name: "Dara",
        subject: "she",
        object: "her",
    },
    Person {
        name: "Elif",
        subject: "she",
        object: "her",
    },
    Person {
        name: "Femi",
        subject: "he",
        object: "him",
    },
    Person {
        name: "Gita",
        subject: "she",
        object: "her",
    },
    Person {
        name: "Hugo",
        subject: "he",
        object: "him",
    },
];

/// (singular, plural)
const ITEMS: [(&str, &str); 8] = [
    ("notebook", "notebooks"),
    ("pen", "pens"),
    ("apple", "apples"),
    ("mug", "mugs"),
    ("ticket", "tickets"),
    ("book", "books"),
    ("toy car", "toy cars"),
    ("candle", "candles"),
];

const THINGS: [&str; 5] = ["stickers", "marbles", "cards", "shells", "stamps"];

/// Bills a buyer pays with, smallest first.
const BILLS: [i64; 9] = [5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/// A story under construction: its quantities (in order) and answer.
struct Story {
    template: &'static str,
    text: String,
    quantities: Vec<(String, i64)>,
    answer: i64,
}

/// Draws one word problem.
pub fn generate(rng: &mut ChaCha8Rng, difficulty: u32) -> Generated {
    let d = i64::from(difficulty.clamp(1, 5));
    let scale = [1, 2, 4, 10, 25][(d - 1) as usize];
    let who = pick(rng, &PEOPLE);
    let story = match *pick(rng, &TEMPLATES) {
        "shopping" => shopping(rng, d, scale, who),
        "travel" => travel(rng, d, scale, who),
        "fill_time" => fill_time(rng, scale),
        "sharing" => sharing(rng, d, scale, who),
        "discount" => discount(rng, d, scale, who),
        "bakery" => bakery(rng, d, scale),
        _ => ages(rng, d, who),
    };
    let mut quantities = Map::new();
    for (k, v) in &story.quantities {
        quantities.insert(k.clone(), Value::String(v.to_string()));
    }
    let answer = BigInt::from(story.answer);
    Generated {
        text: story.text,
        reference: answer.to_string(),
        structured: json!({
            "kind": "word_problem",
            "template": story.template,
            "quantities": quantities,
            "answer": answer.to_string(),
        }),
        constraints: smt_int_answer(&answer),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn count_of(n: i64, item: (&str, &str)) -> String {
    format!("{n} {}", if n == 1 { item.0 } else { item.1 })
}

/// A list joined as `a, b and c`.
fn listing(parts: &[String]) -> String {
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

fn shopping(rng: &mut ChaCha8Rng, d: i64, scale: i64, who: &Person) -> Story {
    let kinds = if d >= 3 { 3 } else { 2 };
    let mut items: Vec<(&str, &str)> = Vec::new();
    while items.len() < kinds {
        let item = *pick(rng, &ITEMS);
        if !items.contains(&item) {
            items.push(item);
        }
    }
    let mut quantities = Vec::new();
    let mut parts = Vec::new();
    let mut total = 0;
    for (i, item) in items.iter().enumerate() {
        let count = int(rng, 1, 3 + d);
        let price = int(rng, 1, 5 * scale);
        total += count * price;
        parts.push(format!("{} at ${price} each", count_of(count, *item)));
        quantities.push((format!("count{}", i + 1), count));
        quantities.push((format!("price{}", i + 1), price));
    }
    let paid = BILLS
        .iter()
        .copied()
        .find(|&b| b >= total)
        .unwrap_or_else(|| (total / 1000 + 1) * 1000);
    quantities.push(("paid".into(), paid));
    Story {
        template: "shopping",
        text: format!(
            "{} buys {}. {} pays with a ${paid} bill. How much change, in dollars, does {} get?",
            who.name,
            listing(&parts),
            capitalized(who.subject),
            who.subject
        ),
        quantities,
        answer: paid - total,
    }
}

fn travel(rng: &mut ChaCha8Rng, d: i64, scale: i64, who: &Person) -> Story {
    let legs = if d >= 4 { 3 } else { 2 };
    let mut quantities = Vec::new();
    let mut parts = Vec::new();
    let mut total = 0;
    for i in 0..legs {
        let speed = int(rng, 5, 10 + 5 * scale);
        let hours = int(rng, 1, 2 + d);
        total += speed * hours;
        let unit = if hours == 1 { "hour" } else { "hours" };
        parts.push(format!("at {speed} km per hour for {hours} {unit}"));
        quantities.push((format!("speed{}", i + 1), speed));
        quantities.push((format!("hours{}", i + 1), hours));
    }
    Story {
        template: "travel",
        text: format!(
            "{} cycles {}. How many kilometers does {} cycle in total?",
            who.name,
            parts.join(", then "),
            who.subject
        ),
        quantities,
        answer: total,
    }
}

fn fill_time(rng: &mut ChaCha8Rng, scale: i64) -> Story {
    let rate = int(rng, 2, 5 * scale);
    let minutes = int(rng, 3, 10 * scale);
    let start = int(rng, 1, 20 * scale);
    let capacity = start + rate * minutes;
    Story {
        template: "fill_time",
        text: format!(
            "A tank holds {capacity} liters and already contains {start} liters. A pump adds {rate} liters per minute. How many minutes does it take to fill the tank?"
        ),
        quantities: vec![
            ("capacity".into(), capacity),
            ("start".into(), start),
            ("rate".into(), rate),
        ],
        answer: minutes,
    }
}

fn sharing(rng: &mut ChaCha8Rng, d: i64, scale: i64, who: &Person) -> Story {
    let things = *pick(rng, &THINGS);
    let friends = int(rng, 2, 3 + d);
    let each = int(rng, 2, 5 * scale);
    let keep = int(rng, 1, 10 * scale);
    let total = keep + friends * each;
    Story {
        template: "sharing",
        text: format!(
            "{} has {total} {things}. {} keeps {keep} for {}self and shares the rest equally among {friends} friends. How many {things} does each friend get?",
            who.name,
            capitalized(who.subject),
            who.object
        ),
        quantities: vec![
            ("total".into(), total),
            ("keep".into(), keep),
            ("friends".into(), friends),
        ],
        answer: each,
    }
}

fn discount(rng: &mut ChaCha8Rng, d: i64, scale: i64, who: &Person) -> Story {
    let item = *pick(rng, &ITEMS);
    // A multiple of 20 times a multiple of 5 is a multiple of 100: the sale price is whole.
    let price = 20 * int(rng, 1, 5 * scale);
    let percent = 5 * int(rng, 1, if d >= 3 { 15 } else { 10 });
    let qty = int(rng, 1, 2 + d);
    let unit = price * (100 - percent) / 100;
    Story {
        template: "discount",
        text: format!(
            "A {} normally costs ${price}. During a sale every {} is {percent}% off. {} buys {}. How many dollars does {} pay?",
            item.0,
            item.0,
            who.name,
            count_of(qty, item),
            who.subject
        ),
        quantities: vec![
            ("price".into(), price),
            ("percent".into(), percent),
            ("qty".into(), qty),
        ],
        answer: qty * unit,
    }
}

fn bakery(rng: &mut ChaCha8Rng, d: i64, scale: i64) -> Story {
    let batches = int(rng, 2, 3 + 2 * d);
    let per = int(rng, 6, 12 * scale);
    let total = batches * per;
    // Leave an even number after the morning, so half of it is whole.
    let left = int(rng, 1, (total - 1) / 2);
    let morning = total - 2 * left;
    Story {
        template: "bakery",
        text: format!(
            "A bakery bakes {batches} batches of {per} cookies. It sells {morning} cookies in the morning and half of the remaining cookies in the afternoon. How many cookies are left at the end of the day?"
        ),
        quantities: vec![
            ("batches".into(), batches),
            ("per".into(), per),
            ("morning".into(), morning),
        ],
        answer: left,
    }
}

fn ages(rng: &mut ChaCha8Rng, d: i64, who: &Person) -> Story {
    let age = int(rng, 3, 12 + d);
    let times = int(rng, 2, 3 + d / 2);
    let years = int(rng, 1, 5 * d);
    let mother = age * times;
    let mut quantities = vec![
        ("age".into(), age),
        ("times".into(), times),
        ("years".into(), years),
    ];
    let (extra, target, answer) = if d >= 4 {
        let older = int(rng, 1, 9);
        quantities.push(("older".into(), older));
        (
            format!(
                " {}'s father is {older} years older than {} mother.",
                who.name,
                possessive(who)
            ),
            "father",
            mother + older + years,
        )
    } else {
        (String::new(), "mother", mother + years)
    };
    Story {
        template: "ages",
        text: format!(
            "{} is {age} years old. {} mother is {times} times as old as {} is.{extra} How old will {} {target} be in {years} years?",
            who.name,
            capitalized(possessive(who)),
            who.subject,
            possessive(who)
        ),
        quantities,
        answer,
    }
}

fn possessive(who: &Person) -> &'static str {
    if who.subject == "she" {
        "her"
    } else {
        "his"
    }
}
