//! A sweep's outputs, rebuilt from its run records in run-id order:
//! `results.csv` (one row per run), `summary.csv` (per point: mean, standard
//! deviation and 95 % confidence interval across seeds for each objective and
//! constrained metric, feasibility, rank), `pareto.csv` (feasible points not
//! dominated on the objectives) and `best_profile.toml` (the best feasible point's
//! engine parameters, usable with `--profile`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::RunRecord;
use super::spec::{Goal, SweepFile};
use crate::expect::metric_value;
use crate::report::{ArtifactError, write_atomic};

/// Reads every record of `dir/runs.jsonl`, sorted by run id (the last line of a
/// run wins; a torn or unreadable line, as a kill can leave, is skipped).
pub fn read_records(dir: &Path) -> Result<Vec<RunRecord>, ArtifactError> {
    let path = dir.join(super::RECORDS);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ArtifactError { path, source }),
    };
    let records: BTreeMap<String, RunRecord> = text
        .lines()
        .filter_map(|line| serde_json::from_str::<RunRecord>(line).ok())
        .map(|record| (record.run_id.clone(), record))
        .collect();
    Ok(records.into_values().collect())
}

/// Writes the outputs into `out_dir` from its records: the four files, the tables
/// and the page (`report.html`).
pub fn write_outputs(out_dir: &Path, file: &SweepFile) -> Result<(), ArtifactError> {
    let records = read_records(out_dir)?;
    write_atomic(&out_dir.join("results.csv"), results_csv(&records).as_bytes())?;
    let summaries = summarize(&records, file);
    write_atomic(&out_dir.join("summary.csv"), summary_csv(&summaries, file).as_bytes())?;
    write_atomic(&out_dir.join("pareto.csv"), pareto_csv(&summaries, file).as_bytes())?;
    write_atomic(&out_dir.join("best_profile.toml"), best_profile(&summaries, file).as_bytes())?;
    let tables: Vec<(String, String)> = file.tables.iter().map(|table| (table.name.clone(), table_csv(&records, table))).collect();
    for (name, text) in &tables {
        write_atomic(&out_dir.join(name), text.as_bytes())?;
    }
    let page = crate::html::sweep_page::render(file, &summaries, &pareto(&summaries, file), records.len(), &tables);
    write_atomic(&out_dir.join("report.html"), page.as_bytes())?;
    Ok(())
}

/// Rows grouped by `group_by` values (in order of first appearance in run-id
/// order), with n and each metric's mean and standard deviation.
fn table_csv(records: &[RunRecord], table: &super::spec::TableSpec) -> String {
    let mut groups: Vec<(Vec<String>, Vec<&RunRecord>)> = Vec::new();
    for record in records {
        let key: Vec<String> = table.group_by.iter().map(|name| record.params.get(name).map(json_cell).unwrap_or_default()).collect();
        match groups.iter_mut().find(|(existing, _)| *existing == key) {
            Some((_, members)) => members.push(record),
            None => groups.push((key, vec![record])),
        }
    }
    let mut header: Vec<String> = table.group_by.clone();
    header.push("n".to_string());
    for metric in &table.metrics {
        header.extend([format!("{metric}.mean"), format!("{metric}.std")]);
    }
    let mut text = csv_line(&header);
    for (key, members) in groups {
        let mut row = key;
        row.push(members.len().to_string());
        for metric in &table.metrics {
            let values: Vec<f64> = members.iter().filter_map(|record| metric_value(&record.metrics, metric)).collect();
            let stats = stats(&values);
            row.extend([number(stats.mean), number(stats.std)]);
        }
        text.push_str(&csv_line(&row));
    }
    text
}

/// Statistics of one metric across a point's runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Runs.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one run).
    pub std: f64,
    /// 95 % confidence interval of the mean (Student's t), low.
    pub ci95_low: f64,
    /// High.
    pub ci95_high: f64,
}

/// Mean, standard deviation and 95 % Student-t interval of `values`.
pub fn stats(values: &[f64]) -> Stats {
    let n = values.len();
    if n == 0 {
        return Stats { n, mean: f64::NAN, std: f64::NAN, ci95_low: f64::NAN, ci95_high: f64::NAN };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Stats { n, mean, std: 0.0, ci95_low: mean, ci95_high: mean };
    }
    let std = (values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64).map_or(1.96, |distribution| distribution.inverse_cdf(0.975));
    let half = t * std / (n as f64).sqrt();
    Stats { n, mean, std, ci95_low: mean - half, ci95_high: mean + half }
}

/// One point's summary.
#[derive(Clone, Debug)]
pub struct PointSummary {
    /// Point index.
    pub point: usize,
    /// Its parameter values.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Statistics per objective and constrained metric.
    pub metrics: BTreeMap<String, Stats>,
    /// Every constraint holds on the means.
    pub feasible: bool,
    /// 1-based rank by the first objective among feasible points.
    pub rank: Option<usize>,
}

fn tracked_metrics(file: &SweepFile) -> Vec<String> {
    let set: BTreeSet<String> = file
        .objectives
        .iter()
        .map(|objective| objective.metric.clone())
        .chain(file.constraints.iter().map(|constraint| constraint.metric.clone()))
        .collect();
    set.into_iter().collect()
}

/// Summarizes records per point and ranks the feasible ones.
pub fn summarize(records: &[RunRecord], file: &SweepFile) -> Vec<PointSummary> {
    let mut by_point: BTreeMap<usize, Vec<&RunRecord>> = BTreeMap::new();
    for record in records {
        by_point.entry(record.point).or_default().push(record);
    }
    let metrics = tracked_metrics(file);
    let mut summaries: Vec<PointSummary> = by_point
        .into_iter()
        .map(|(point, runs)| {
            let stats_of = |metric: &String| {
                let values: Vec<f64> = runs.iter().filter_map(|run| metric_value(&run.metrics, metric)).collect();
                (metric.clone(), stats(&values))
            };
            let metrics: BTreeMap<String, Stats> = metrics.iter().map(stats_of).collect();
            let feasible = file
                .constraints
                .iter()
                .all(|constraint| metrics.get(&constraint.metric).is_some_and(|stats| constraint.op.holds(stats.mean, constraint.value)));
            PointSummary { point, params: runs[0].params.clone(), metrics, feasible, rank: None }
        })
        .collect();
    let primary = &file.objectives[0];
    let mut ranked: Vec<(usize, f64)> = summaries
        .iter()
        .enumerate()
        .filter(|(_, summary)| summary.feasible)
        .map(|(index, summary)| (index, summary.metrics[&primary.metric].mean))
        .filter(|(_, mean)| mean.is_finite())
        .collect();
    ranked.sort_by(|left, right| {
        let order = left.1.total_cmp(&right.1);
        let order = if primary.goal == Goal::Maximize { order.reverse() } else { order };
        order.then(left.0.cmp(&right.0))
    });
    for (rank, (index, _)) in ranked.into_iter().enumerate() {
        summaries[index].rank = Some(rank + 1);
    }
    summaries
}

fn number(value: f64) -> String {
    if value.is_finite() { format!("{value}") } else { String::new() }
}

fn json_cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn csv_line(cells: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let _ = writer.write_record(cells);
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn results_csv(records: &[RunRecord]) -> String {
    let params: BTreeSet<&String> = records.iter().flat_map(|record| record.params.keys()).collect();
    let metrics: BTreeSet<&String> = records.iter().flat_map(|record| record.metrics.keys()).collect();
    let mut header = vec!["run_id".to_string(), "point".to_string(), "scenario".to_string(), "seed".to_string()];
    header.extend(params.iter().map(|name| name.to_string()));
    header.extend(metrics.iter().map(|name| name.to_string()));
    header.push("fingerprint".to_string());
    let mut text = csv_line(&header);
    for record in records {
        let mut row = vec![record.run_id.clone(), record.point.to_string(), record.scenario.clone(), record.seed.to_string()];
        row.extend(params.iter().map(|name| record.params.get(*name).map(json_cell).unwrap_or_default()));
        row.extend(metrics.iter().map(|name| record.metrics.get(*name).copied().map(number).unwrap_or_default()));
        row.push(record.fingerprint.clone());
        text.push_str(&csv_line(&row));
    }
    text
}

fn point_cells(summary: &PointSummary, params: &BTreeSet<String>) -> Vec<String> {
    let mut cells = vec![summary.point.to_string()];
    cells.extend(params.iter().map(|name| summary.params.get(name).map(json_cell).unwrap_or_default()));
    cells
}

fn summary_csv(summaries: &[PointSummary], file: &SweepFile) -> String {
    let params: BTreeSet<String> = summaries.iter().flat_map(|summary| summary.params.keys().cloned()).collect();
    let metrics = tracked_metrics(file);
    let mut header = vec!["point".to_string()];
    header.extend(params.iter().cloned());
    header.push("n".to_string());
    for metric in &metrics {
        header.extend(["mean", "std", "ci95_low", "ci95_high"].iter().map(|stat| format!("{metric}.{stat}")));
    }
    header.extend(["feasible".to_string(), "rank".to_string()]);
    let mut text = csv_line(&header);
    for summary in summaries {
        let mut row = point_cells(summary, &params);
        row.push(summary.metrics.values().next().map_or(0, |stats| stats.n).to_string());
        for metric in &metrics {
            let stats = &summary.metrics[metric];
            row.extend([stats.mean, stats.std, stats.ci95_low, stats.ci95_high].map(number));
        }
        row.push(summary.feasible.to_string());
        row.push(summary.rank.map(|rank| rank.to_string()).unwrap_or_default());
        text.push_str(&csv_line(&row));
    }
    text
}

/// Feasible points no other feasible point beats on every objective.
pub fn pareto(summaries: &[PointSummary], file: &SweepFile) -> Vec<usize> {
    let score = |summary: &PointSummary| -> Vec<f64> {
        file.objectives
            .iter()
            .map(|objective| {
                let mean = summary.metrics[&objective.metric].mean;
                if objective.goal == Goal::Maximize { mean } else { -mean }
            })
            .collect()
    };
    let feasible: Vec<(usize, Vec<f64>)> = summaries
        .iter()
        .enumerate()
        .filter(|(_, summary)| summary.feasible)
        .map(|(index, summary)| (index, score(summary)))
        .filter(|(_, scores)| scores.iter().all(|value| value.is_finite()))
        .collect();
    feasible
        .iter()
        .filter(|(_, mine)| {
            !feasible.iter().any(|(_, other)| {
                other.iter().zip(mine).all(|(theirs, ours)| theirs >= ours) && other.iter().zip(mine).any(|(theirs, ours)| theirs > ours)
            })
        })
        .map(|(index, _)| *index)
        .collect()
}

fn pareto_csv(summaries: &[PointSummary], file: &SweepFile) -> String {
    let params: BTreeSet<String> = summaries.iter().flat_map(|summary| summary.params.keys().cloned()).collect();
    let mut header = vec!["point".to_string()];
    header.extend(params.iter().cloned());
    header.extend(file.objectives.iter().map(|objective| format!("{}.mean", objective.metric)));
    header.push("rank".to_string());
    let mut text = csv_line(&header);
    for index in pareto(summaries, file) {
        let summary = &summaries[index];
        let mut row = point_cells(summary, &params);
        row.extend(file.objectives.iter().map(|objective| number(summary.metrics[&objective.metric].mean)));
        row.push(summary.rank.map(|rank| rank.to_string()).unwrap_or_default());
        text.push_str(&csv_line(&row));
    }
    text
}

fn best_profile(summaries: &[PointSummary], file: &SweepFile) -> String {
    let primary = &file.objectives[0];
    let Some(best) = summaries.iter().find(|summary| summary.rank == Some(1)) else {
        return format!(
            "# sweep {}: no point met every constraint; no profile\n[profile]\ndescription = \"no feasible point\"\n\n[engine]\n",
            file.sweep.name
        );
    };
    let stats = &best.metrics[&primary.metric];
    let mut text = format!(
        "# best feasible point of sweep {} (point {}): {} mean {} (95 % CI {} to {}, n = {})\n[profile]\ndescription = \"sweep {} point {}\"\n\n[engine]\n",
        file.sweep.name,
        best.point,
        primary.metric,
        number(stats.mean),
        number(stats.ci95_low),
        number(stats.ci95_high),
        stats.n,
        file.sweep.name,
        best.point
    );
    for (name, value) in &best.params {
        match name.strip_prefix("engine.") {
            Some(key) => text.push_str(&format!("{key} = {value}\n")),
            None => text.push_str(&format!("# {name} = {value} (not an engine parameter; set it in the scenario)\n")),
        }
    }
    // The sweep's profile was under every point: its settings the point did not sweep.
    let swept = |key: &str| best.params.contains_key(&format!("engine.{key}"));
    let inherited: Vec<(&String, &toml::Value)> = file.profile_engine.iter().filter(|(key, _)| !swept(key)).collect();
    if let (Some(profile), false) = (&file.sweep.profile, inherited.is_empty()) {
        text.push_str(&format!("# from profile {profile}, under every point of the sweep\n"));
        for (key, value) in inherited {
            text.push_str(&format!("{key} = {value}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_a_run_never_incremented_counts_as_zero() {
        let file: SweepFile = toml::from_str(
            "[sweep]\nname = \"t\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 2\n\n[[params]]\nname = \"engine.a\"\nvalues = [1]\n\n\
             [[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n\n\
             [[constraints]]\nmetric = \"kpis.block_reasons.rate_limit\"\nop = \"<=\"\nvalue = 0\n",
        )
        .unwrap();
        let record = |seed: u64| RunRecord {
            run_id: format!("p00000-x00-s{seed:04}"),
            point: 0,
            scenario: "t".into(),
            seed,
            params: BTreeMap::new(),
            config_hash: String::new(),
            fingerprint: String::new(),
            code_version: crate::CODE_VERSION.to_string(),
            metrics: BTreeMap::from([("kpis.net_bps".to_string(), seed as f64)]),
        };
        let summaries = summarize(&[record(0), record(1)], &file);
        let blocked = &summaries[0].metrics["kpis.block_reasons.rate_limit"];
        assert_eq!((blocked.n, blocked.mean), (2, 0.0));
        assert!(summaries[0].feasible);
        assert_eq!(summaries[0].rank, Some(1));
    }

    #[test]
    fn student_t_interval_widens_for_few_samples() {
        let few = stats(&[1.0, 2.0, 3.0]);
        assert_eq!(few.mean, 2.0);
        assert!((few.std - 1.0).abs() < 1e-12);
        // t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3).
        assert!((few.ci95_high - few.mean - 4.302_652_7 / 3f64.sqrt()).abs() < 1e-5, "{few:?}");
        let one = stats(&[5.0]);
        assert_eq!((one.ci95_low, one.ci95_high), (5.0, 5.0));
    }
}
