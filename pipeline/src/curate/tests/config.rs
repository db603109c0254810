//! The `[curation]` section: defaults, unknown fields, validation messages.

use crate::curate::CurationConfig;

fn parse(text: &str) -> Result<CurationConfig, toml::de::Error> {
    toml::from_str(text)
}

#[test]
fn defaults_are_datatrove_and_13_grams() {
    let c = parse("").unwrap();
    assert_eq!(c, CurationConfig::default());
    assert!(c.exact && c.near_duplicates);
    assert_eq!((c.ngram, c.bands, c.rows), (5, 14, 8));
    assert_eq!(c.threshold, 0.8);
    assert_eq!((c.decontam_ngram, c.min_overlap), (13, 1));
    assert!(c.decontaminate.is_empty());
    c.validate().unwrap();
}

#[test]
fn benchmark_files_parse_inline_or_as_tables() {
    let c = parse(
        "threshold = 0.7\ndecontaminate = [{ path = \"g.jsonl\", field = \"question\" }]\n\
         [[decontaminate]]\npath = \"items.txt\"\n",
    );
    // TOML forbids defining the array twice; each form alone works.
    assert!(c.is_err());
    let c = parse("decontaminate = [{ path = \"g.jsonl\", field = \"question\" }]").unwrap();
    assert_eq!(c.decontaminate[0].field.as_deref(), Some("question"));
    let c = parse("[[decontaminate]]\npath = \"items.txt\"\n").unwrap();
    assert_eq!(c.decontaminate[0].field, None);
    c.validate().unwrap();
}

#[test]
fn unknown_fields_are_rejected() {
    let err = parse("treshold = 0.7").unwrap_err().to_string();
    assert!(err.contains("unknown field `treshold`"), "{err}");
    let err = parse("decontaminate = [{ path = \"a.txt\", feild = \"q\" }]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `feild`"), "{err}");
}

#[test]
fn validation_names_the_field() {
    let c = parse(
        "ngram = 0\nbands = 0\nthreshold = 1.5\ndecontam_ngram = 0\nmin_overlap = 0\n\
         decontaminate = [{ path = \"g.jsonl\" }, { path = \"t.txt\", field = \"\" }]",
    )
    .unwrap();
    let errors = c.validate().unwrap_err();
    for needle in [
        "curation.ngram",
        "curation.bands",
        "curation.threshold 1.5 must be in (0, 1]",
        "curation.decontam_ngram",
        "curation.min_overlap",
        "curation.decontaminate[0].field: g.jsonl is JSONL",
        "curation.decontaminate[1].field must not be empty",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(needle)),
            "{needle}: {errors:?}"
        );
    }
    let c = parse("threshold = 0.0").unwrap();
    assert!(c.validate().is_err());
    let c = parse("bands = 100\nrows = 100").unwrap();
    let errors = c.validate().unwrap_err();
    assert!(errors[0].contains("10000"), "{errors:?}");
    let c = parse("threshold = nan").unwrap();
    assert!(c.validate().is_err());
}
