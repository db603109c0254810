//! What an export writes and how: the formats, the conversation shape, the pairing settings.

use super::problems::ProblemRecord;
use serde::Serialize;
use std::str::FromStr;

/// An export format; its name is the config name and the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Sft,
    Dpo,
    PassRate,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Sft, Format::Dpo, Format::PassRate];

    pub fn name(self) -> &'static str {
        match self {
            Format::Sft => "sft",
            Format::Dpo => "dpo",
            Format::PassRate => "pass_rate",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s.trim())
            .ok_or_else(|| format!("unknown export format `{s}` (expected sft, dpo or pass_rate)"))
    }
}

/// What the user message of an exported conversation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserContent {
    /// The row's `prompt`: the rendered template, exactly what the completion answers.
    Prompt,
    /// The bare problem statement (`problem`), without the template's instructions.
    Problem,
}

impl FromStr for UserContent {
    type Err = String;
    fn from_str(s: &str) -> Result<UserContent, String> {
        match s.trim() {
            "prompt" => Ok(UserContent::Prompt),
            "problem" => Ok(UserContent::Problem),
            _ => Err(format!(
                "unknown user content `{s}` (expected prompt or problem)"
            )),
        }
    }
}

/// How a problem becomes the prompt messages of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub system: Option<String>,
    pub user: UserContent,
}

impl Conversation {
    /// `[system], user` for `problem`.
    pub fn prompt_messages<'a>(
        &'a self,
        problem: &'a ProblemRecord,
    ) -> Vec<(&'static str, &'a str)> {
        let mut m = Vec::with_capacity(3);
        if let Some(system) = &self.system {
            m.push(("system", system.as_str()));
        }
        m.push((
            "user",
            match self.user {
                UserContent::Prompt => problem.prompt.as_str(),
                UserContent::Problem => problem.problem.as_str(),
            },
        ));
        m
    }
}

/// Export settings.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// What to write. Empty: every format, skipping (with a note) those the run cannot give.
    /// Named formats the run cannot give are errors.
    pub formats: Vec<Format>,
    pub conversation: Conversation,
    pub max_pairs_per_problem: usize,
    /// Seeds the DPO pairing.
    pub seed: u64,
    /// Write into a non-empty `to` (replacing an earlier export's files).
    pub force: bool,
}
