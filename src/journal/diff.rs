//! The first record where two journals part: the same scenario recorded on two
//! machines, by two builds or with two settings. Headers are compared field by
//! field (code version, seed, each engine parameter), records one by one, and the
//! first differing record is shown with the records before it.
//!
//! Deliberately not here: why they part (replay a journal with `journal replay` to
//! ask whether this build's engine decides the same).

use std::collections::VecDeque;
use std::path::Path;

use super::{JournalError, JournalHeader, JournalReader, Record};

/// Records shown before the first difference.
pub const CONTEXT_RECORDS: usize = 3;

/// What two journals have in common and where they part.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalDiff {
    /// The first journal's header.
    pub a_header: JournalHeader,
    /// The second journal's header.
    pub b_header: JournalHeader,
    /// Header fields that differ: dotted name, A's value, B's value (JSON).
    pub header_differences: Vec<(String, String, String)>,
    /// Records equal in both before the first difference.
    pub common_records: u64,
    /// The first difference; `None` when every record is the same.
    pub first_difference: Option<RecordDifference>,
}

/// The first record that differs.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordDifference {
    /// 1-based record number (the header is not a record).
    pub record_number: u64,
    /// Up to [`CONTEXT_RECORDS`] records before it, the same in both (journal lines).
    pub context: Vec<String>,
    /// A's record as its journal line; `None` when A ends there.
    pub a: Option<String>,
    /// B's record; `None` when B ends there.
    pub b: Option<String>,
}

/// Compares the journals at `a` and `b`.
pub fn diff(a: &Path, b: &Path) -> Result<JournalDiff, JournalError> {
    let (a_reader, b_reader) = (JournalReader::open(a)?, JournalReader::open(b)?);
    let (a_header, b_header) = (a_reader.header().clone(), b_reader.header().clone());
    let (mut a_records, mut b_records) = (a_reader.records(), b_reader.records());
    let mut header_differences = Vec::new();
    let as_value = |header: &JournalHeader| serde_json::to_value(header).expect("headers serialize");
    differences("", &as_value(&a_header), &as_value(&b_header), &mut header_differences);
    let mut context = VecDeque::with_capacity(CONTEXT_RECORDS + 1);
    let mut common_records = 0u64;
    let first_difference = loop {
        let record = |found: Option<(Record, u64)>| found.map(|(record, _)| record);
        let (a_record, b_record) = (record(a_records.next_record()?), record(b_records.next_record()?));
        match (a_record, b_record) {
            (None, None) => break None,
            (Some(a_record), Some(b_record)) if a_record == b_record => {
                common_records += 1;
                context.push_back(a_record);
                if context.len() > CONTEXT_RECORDS {
                    context.pop_front();
                }
            }
            (a_record, b_record) => {
                break Some(RecordDifference {
                    record_number: common_records + 1,
                    context: context.iter().map(Record::to_line).collect(),
                    a: a_record.map(|record| record.to_line()),
                    b: b_record.map(|record| record.to_line()),
                });
            }
        }
    };
    Ok(JournalDiff { a_header, b_header, header_differences, common_records, first_difference })
}

/// Leaves of two JSON values that differ, by dotted name.
fn differences(prefix: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<(String, String, String)>) {
    use serde_json::Value;
    if let (Value::Object(a_fields), Value::Object(b_fields)) = (a, b) {
        let mut names: Vec<&String> = a_fields.keys().chain(b_fields.keys()).collect();
        names.sort();
        names.dedup();
        for name in names {
            let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
            let (a_field, b_field) = (a_fields.get(name).unwrap_or(&Value::Null), b_fields.get(name).unwrap_or(&Value::Null));
            differences(&path, a_field, b_field, out);
        }
    } else if a != b {
        out.push((prefix.to_string(), a.to_string(), b.to_string()));
    }
}
