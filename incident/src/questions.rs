//! The questions that will be asked — by executives, legal, the press — and the post-mortem
//! questions. Each has a status and an answer, kept up to date as the response goes on.

use yrs::{Any, Map, MapRef, Out, Transact};

use crate::Incident;

/// Which list a question belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuestionList {
    /// Asked during the incident, usually by people outside the response.
    WillBeAsked,
    /// Asked once it is over.
    PostMortem,
}

impl QuestionList {
    /// The name of the list's root map in the document.
    pub const fn root(self) -> &'static str {
        match self {
            QuestionList::WillBeAsked => "questions",
            QuestionList::PostMortem => "postmortem",
        }
    }
}

/// One fixed question of the template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Question {
    pub list: QuestionList,
    /// Stable key in the stored document.
    pub key: &'static str,
    pub text: &'static str,
}

const fn q(list: QuestionList, key: &'static str, text: &'static str) -> Question {
    Question { list, key, text }
}

/// Every question, in the order the page shows them.
pub const QUESTIONS: [Question; 13] = [
    q(QuestionList::WillBeAsked, "our_data", "Is it our data?"),
    q(QuestionList::WillBeAsked, "breach", "Is it a breach?"),
    q(
        QuestionList::WillBeAsked,
        "service",
        "What app or service provides the data?",
    ),
    q(
        QuestionList::WillBeAsked,
        "origin",
        "Where did the data come from?",
    ),
    q(
        QuestionList::WillBeAsked,
        "timestamped",
        "Can the data be time stamped?",
    ),
    q(QuestionList::WillBeAsked, "meaning", "What does it mean?"),
    q(QuestionList::WillBeAsked, "value", "Does it have value?"),
    q(
        QuestionList::WillBeAsked,
        "rollback",
        "Can we roll back to the last known good state?",
    ),
    q(
        QuestionList::PostMortem,
        "threat_model",
        "Did the threat model cover this?",
    ),
    q(
        QuestionList::PostMortem,
        "bug_bounty",
        "Should the target go into the bug bounty?",
    ),
    q(QuestionList::PostMortem, "why", "Why did it happen?"),
    q(QuestionList::PostMortem, "reaction", "How did we react?"),
    q(
        QuestionList::PostMortem,
        "best_practice",
        "Was best practice followed? If not, why not?",
    ),
];

impl Question {
    /// The questions of one list, in order.
    pub fn of(list: QuestionList) -> impl Iterator<Item = Question> {
        QUESTIONS.into_iter().filter(move |q| q.list == list)
    }

    pub fn from_key(key: &str) -> Option<Question> {
        QUESTIONS.into_iter().find(|q| q.key == key)
    }
}

/// How far a question is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AnswerStatus {
    #[default]
    Unknown,
    Yes,
    No,
    Partly,
}

impl AnswerStatus {
    pub const ALL: [AnswerStatus; 4] = [
        AnswerStatus::Unknown,
        AnswerStatus::Yes,
        AnswerStatus::No,
        AnswerStatus::Partly,
    ];

    pub fn key(self) -> &'static str {
        match self {
            AnswerStatus::Unknown => "unknown",
            AnswerStatus::Yes => "yes",
            AnswerStatus::No => "no",
            AnswerStatus::Partly => "partly",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AnswerStatus::Unknown => "Unknown",
            AnswerStatus::Yes => "Yes",
            AnswerStatus::No => "No",
            AnswerStatus::Partly => "Partly",
        }
    }

    pub fn from_key(key: &str) -> Option<AnswerStatus> {
        AnswerStatus::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// The current answer to a question.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Answer {
    pub status: AnswerStatus,
    pub answer: String,
    /// Who changed it last.
    pub by: String,
}

// Each question's fields are flat keys of its list's map ("breach.status", "breach.answer"):
// no nested entry has to be created first, so two people answering a question nobody has
// touched yet both keep what they wrote (a nested map created twice would keep only one).
impl Incident {
    fn question_map(&self, list: QuestionList) -> &MapRef {
        self.root_map(list.root())
    }

    /// The answer to a question (Unknown and empty until someone answers).
    pub fn answer(&self, question: Question) -> Answer {
        let map = self.question_map(question.list);
        let txn = self.doc.transact();
        let field = |name: &str| match map.get(&txn, format!("{}.{name}", question.key).as_str()) {
            Some(Out::Any(Any::String(s))) => s.to_string(),
            _ => String::new(),
        };
        Answer {
            status: AnswerStatus::from_key(&field("status")).unwrap_or_default(),
            answer: field("answer"),
            by: field("by"),
        }
    }

    /// Sets a question's status, as `by`.
    pub fn set_answer_status(&self, question: Question, status: AnswerStatus, by: &str) {
        if self.answer(question).status != status {
            self.set_answer_field(question, "status", status.key(), by);
        }
    }

    /// Sets a question's answer text, as `by`.
    pub fn set_answer_text(&self, question: Question, answer: &str, by: &str) {
        if self.answer(question).answer != answer {
            self.set_answer_field(question, "answer", answer, by);
        }
    }

    fn set_answer_field(&self, question: Question, name: &str, value: &str, by: &str) {
        let map = self.question_map(question.list);
        let mut txn = self.doc.transact_mut();
        map.insert(&mut txn, format!("{}.{name}", question.key), value);
        map.insert(&mut txn, format!("{}.by", question.key), by);
    }
}
