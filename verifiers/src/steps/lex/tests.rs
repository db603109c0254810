use super::*;

fn kinds(s: &str) -> Vec<String> {
    lex(&latex_to_plain(s), false)
        .into_iter()
        .map(|t| match t.kind {
            Kind::Math(Tok::Num(n)) => format!("{n}"),
            Kind::Math(Tok::Var(v)) => format!("var:{v}"),
            Kind::Math(Tok::Op(c)) => c.to_string(),
            Kind::Math(Tok::ImplicitMul) => "·".into(),
            Kind::Math(Tok::LParen) => "(".into(),
            Kind::Math(Tok::RParen) => ")".into(),
            Kind::Math(Tok::Percent) => "%".into(),
            Kind::Math(other) => format!("{other:?}"),
            Kind::Eq => "=".into(),
            Kind::Letter(c) => format!("letter:{c}"),
            Kind::Word(w) => format!("w:{w}"),
            Kind::Punct => "p".into(),
            Kind::Approx => "≈".into(),
        })
        .collect()
}

#[test]
fn basic_prose() {
    assert_eq!(
        kinds("48/2 = 24 clips"),
        ["48", "/", "2", "=", "24", "w:clips"]
    );
    assert_eq!(
        kinds("$1,200 + $300 = $1,500."),
        ["1200", "+", "300", "=", "1500", "p"]
    );
    assert_eq!(kinds("0.2 x 50 = 10"), ["1/5", "*", "50", "=", "10"]);
    assert_eq!(kinds("3x4=12"), ["3", "*", "4", "=", "12"]);
    assert_eq!(kinds(".25*32 = 8"), ["1/4", "*", "32", "=", "8"]);
    assert_eq!(kinds("5² = 25"), ["5", "^", "2", "=", "25"]);
    assert_eq!(kinds("20% of"), ["20", "%", "w:of"]);
}

#[test]
fn unknowns_and_words() {
    assert_eq!(
        kinds("2x + 3 = 11"),
        ["2", "·", "var:x", "+", "3", "=", "11"]
    );
    assert_eq!(kinds("x = 4"), ["var:x", "=", "4"]);
    assert_eq!(kinds("a 3"), ["w:a", "3"]);
    assert_eq!(kinds("the 3rd day"), ["w:the", "w:#", "w:day"]);
    assert_eq!(kinds("5kg"), ["5", "w:kg"]);
    assert_eq!(kinds("students x $4"), ["w:students", "*", "4"]);
    assert_eq!(kinds("Let x be"), ["w:let", "w:x", "w:be"]);
    assert_eq!(kinds("15 push-ups"), ["15", "w:push-ups"]);
    assert_eq!(kinds("a 12-pound bag"), ["w:a", "w:#", "w:bag"]);
    assert_eq!(kinds("D3 = 6"), ["w:D", "w:#", "=", "6"]);
    assert_eq!(kinds("Mrs.5 = 5"), ["w:mrs", "w:#", "5", "=", "5"]);
}

#[test]
fn times_dates_and_versions_are_words() {
    assert_eq!(kinds("3:00 + 2 = 5:00"), ["w:#", "+", "2", "=", "w:#"]);
    assert_eq!(kinds("1/2/2020"), ["w:#"]);
    assert_eq!(kinds("2023-01-05"), ["w:#"]);
    assert_eq!(kinds("1.2.3"), ["w:#"]);
    assert_eq!(kinds("3 - 4"), ["3", "-", "4"]);
}

#[test]
fn mixed_numbers_and_commas() {
    assert_eq!(kinds("1 1/2 + 1 = 2 1/2"), ["3/2", "+", "1", "=", "5/2"]);
    assert_eq!(kinds("2 3/2"), ["2", "3", "/", "2"]);
    assert_eq!(kinds("1,2,3"), ["1", "p", "2", "p", "3"]);
    assert_eq!(kinds("12,3456"), ["12", "p", "3456"]);
    assert_eq!(kinds("= 18 000 watts"), ["=", "18000", "w:watts"]);
    assert_eq!(kinds("1 000,000"), ["1000", "p", "w:#"]);
    assert_eq!(kinds("Weeks 1-2 = 3"), ["w:weeks", "w:#", "=", "3"]);
    assert_eq!(kinds("so 4-2 = 2"), ["w:so", "4", "-", "2", "=", "2"]);
    assert_eq!(kinds("so 4 - 2 = 2"), ["w:so", "4", "-", "2", "=", "2"]);
}

#[test]
fn latex() {
    assert_eq!(
        kinds("\\frac{48}{2} = 24"),
        ["(", "(", "48", ")", "/", "(", "2", ")", ")", "=", "24"]
    );
    assert_eq!(kinds("3 \\times 4"), ["3", "*", "4"]);
    assert_eq!(kinds("\\text{apples}"), ["w:\u{1}apples"]);
    assert_eq!(kinds("\\sqrt{4}"), ["w:\u{1}sqrt", "(", "4", ")"]);
}

#[test]
fn approximations_and_markdown() {
    assert_eq!(kinds("10/3 ≈ 3.33"), ["10", "/", "3", "≈", "333/100"]);
    assert_eq!(kinds("3.33..."), ["333/100", "≈"]);
    assert_eq!(kinds("**5**"), ["p", "5", "p"]);
    assert_eq!(lex("2**3", true)[1].kind, Kind::Math(Tok::Op('^')));
}
