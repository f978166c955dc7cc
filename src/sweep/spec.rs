//! Sweep files (`sweeps/*.toml`): base scenarios, parameters as grid values or
//! ranges, the sampling plan (grid, uniform or log-uniform random, Latin
//! hypercube), seeds per point, objectives and constraints. Parsing reports
//! file:line:column and the field; sampling is seeded, so the same file always
//! yields the same points.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::expect::Comparison;
use crate::scenario::{ScenarioError, SourceMap};

/// How points are drawn.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampling {
    /// Every combination of every parameter's values.
    Grid,
    /// `points` independent draws per parameter range.
    Random,
    /// `points` draws, each parameter's range cut in `points` strata, one draw per stratum.
    LatinHypercube,
}

/// How a range is sampled.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Uniform between min and max.
    #[default]
    Linear,
    /// Uniform in log space (both bounds > 0).
    Log,
}

/// One swept parameter: explicit values, or a range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweptParam {
    /// Setting to vary, as for `--set` (e.g. `engine.base_spread_bps`).
    pub name: String,
    /// Explicit values (grid sampling).
    #[serde(default)]
    pub values: Vec<toml::Value>,
    /// Range lower bound.
    pub min: Option<f64>,
    /// Range upper bound.
    pub max: Option<f64>,
    /// Range scale.
    #[serde(default)]
    pub scale: Scale,
    /// Grid steps over a range (inclusive of both ends).
    pub steps: Option<u32>,
    /// Round drawn values to whole numbers.
    #[serde(default)]
    pub integer: bool,
}

/// What to optimize.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Larger is better.
    Maximize,
    /// Smaller is better.
    Minimize,
}

/// An objective: a metric and a direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// Metric path (as in expectations).
    pub metric: String,
    /// Direction.
    pub goal: Goal,
}

/// A constraint on a point's mean over seeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraint {
    /// Metric path.
    pub metric: String,
    /// Comparison.
    pub op: Comparison,
    /// Threshold.
    pub value: f64,
}

/// The `[sweep]` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSection {
    /// Name (default output folder `artifacts/sweeps/<name>`).
    pub name: String,
    /// Base scenario files, relative to the sweep file.
    pub scenarios: Vec<PathBuf>,
    /// Seeds per point: the scenario's seed, +1, +2, …
    pub seeds_per_point: u32,
    /// Sampling plan.
    #[serde(default = "grid")]
    pub sampling: Sampling,
    /// Points to draw (random and Latin hypercube).
    #[serde(default)]
    pub points: u32,
    /// Seed of the sampling plan.
    #[serde(default)]
    pub sampling_seed: u64,
    /// An engine profile under every point (the swept values override it): a name,
    /// looked up in the nearest `profiles/` folder at or above the sweep file's, or a
    /// path relative to the sweep file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

fn grid() -> Sampling {
    Sampling::Grid
}

/// A sweep file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The plan.
    pub sweep: SweepSection,
    /// Swept parameters.
    pub params: Vec<SweptParam>,
    /// Ranked by this (the first objective) and, with a second, Pareto-filtered on both.
    pub objectives: Vec<Objective>,
    /// Constraints on point means.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// Extra tables: metrics grouped by parameters.
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    /// The `[sweep] profile`'s engine settings, read when the sweep is loaded and kept
    /// in `sweep.json`, so outputs and merges never look for the file again. Written by
    /// drydock, refused in a sweep file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile_engine: BTreeMap<String, toml::Value>,
}

/// A table of metrics grouped by parameter values (e.g. a paper's results table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// File name in the output folder, e.g. `as2008_table.csv`.
    pub name: String,
    /// Parameters that define a row (in this order).
    pub group_by: Vec<String>,
    /// Metrics reported as mean and standard deviation over the group's runs.
    pub metrics: Vec<String>,
}

/// A loaded sweep: the file and where it lives.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    /// The sweep file.
    pub path: PathBuf,
    /// Its contents.
    pub file: SweepFile,
    /// Base scenario paths, resolved against the sweep file's folder.
    pub scenario_paths: Vec<PathBuf>,
    /// Where the sweep file's settings are written, to locate errors found later.
    pub source: SourceMap,
    /// The `[sweep] profile`'s file, resolved.
    pub profile_path: Option<PathBuf>,
}

/// How to read the profile `profile` names for the sweep at `sweep_path`: a name as
/// it is, with the nearest `profiles/` folder at or above the sweep file's; a path
/// joined to the sweep file's folder.
fn profile_reference(sweep_path: &Path, profile: &str) -> (String, PathBuf) {
    let folder = crate::scenario::nearest_folder(sweep_path, "profiles").unwrap_or_else(|| PathBuf::from("profiles"));
    if profile.ends_with(".toml") || profile.contains('/') {
        let joined = sweep_path.parent().unwrap_or(Path::new(".")).join(profile);
        (joined.display().to_string(), folder)
    } else {
        (profile.to_string(), folder)
    }
}

/// One point: a value per swept parameter, in declaration order.
pub type Point = Vec<(String, toml::Value)>;

impl Sweep {
    /// Reads and validates a sweep file.
    pub fn load(path: &Path) -> Result<Sweep, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|error| ScenarioError {
            location: crate::scenario::Location::File { path: path.to_path_buf(), line: 1, column: 1 },
            field: "file".to_string(),
            message: format!("cannot read the sweep: {error}; check the path"),
        })?;
        let source = SourceMap::new(path, &text);
        let mut file: SweepFile = toml::from_str(&text).map_err(|error: toml::de::Error| source.toml_error(&error))?;
        validate(&file).map_err(|(field, message)| source.at(&field, &message))?;
        if !file.profile_engine.is_empty() {
            return Err(
                source.at("profile_engine", "drydock writes profile_engine into sweep.json; name a profile with [sweep] profile instead")
            );
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let scenario_paths: Vec<PathBuf> = file.sweep.scenarios.iter().map(|scenario| base.join(scenario)).collect();
        if let Some(message) = scenario_listed_twice(&scenario_paths) {
            return Err(source.at("sweep.scenarios", &message));
        }
        let mut profile_path = None;
        if let Some(profile) = &file.sweep.profile {
            let (as_given, folder) = profile_reference(path, profile);
            let (_, engine) = crate::scenario::read_profile_by(&as_given, &folder).map_err(|error| match error.location {
                // The file is missing: the sweep names it.
                crate::scenario::Location::Flag(_) => source.at("sweep.profile", &error.message),
                _ => error,
            })?;
            file.profile_engine = engine.into_iter().collect();
            profile_path = Some(if as_given.ends_with(".toml") || as_given.contains('/') {
                PathBuf::from(as_given)
            } else {
                folder.join(format!("{as_given}.toml"))
            });
        }
        Ok(Sweep { path: path.to_path_buf(), file, scenario_paths, source, profile_path })
    }

    /// An error about the sweep file's setting `field`, located in the file.
    pub fn error_at(&self, field: &str, message: &str) -> ScenarioError {
        self.source.at(field, message)
    }

    /// Every metric the sweep names, with the setting that names it: objectives,
    /// constraints, then tables.
    pub fn metric_settings(&self) -> Vec<(String, &str)> {
        let file = &self.file;
        let objectives =
            file.objectives.iter().enumerate().map(|(index, objective)| (format!("objectives[{index}].metric"), &*objective.metric));
        let constraints =
            file.constraints.iter().enumerate().map(|(index, constraint)| (format!("constraints[{index}].metric"), &*constraint.metric));
        let tables = file
            .tables
            .iter()
            .enumerate()
            .flat_map(|(index, table)| table.metrics.iter().map(move |metric| (format!("tables[{index}].metrics"), &**metric)));
        objectives.chain(constraints).chain(tables).collect()
    }

    /// The points of the plan, in a fixed order.
    pub fn points(&self) -> Vec<Point> {
        let params = &self.file.params;
        match self.file.sweep.sampling {
            Sampling::Grid => {
                let axes: Vec<Vec<toml::Value>> = params.iter().map(grid_values).collect();
                cartesian(&axes).into_iter().map(|values| params.iter().map(|param| param.name.clone()).zip(values).collect()).collect()
            }
            Sampling::Random | Sampling::LatinHypercube => self.drawn_points(),
        }
    }

    fn drawn_points(&self) -> Vec<Point> {
        let count = self.file.sweep.points as usize;
        let mut rng = ChaCha8Rng::seed_from_u64(self.file.sweep.sampling_seed);
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for _ in &self.file.params {
            let mut unit: Vec<f64> = match self.file.sweep.sampling {
                Sampling::LatinHypercube => (0..count).map(|stratum| (stratum as f64 + rng.random::<f64>()) / count as f64).collect(),
                _ => (0..count).map(|_| rng.random::<f64>()).collect(),
            };
            if self.file.sweep.sampling == Sampling::LatinHypercube {
                shuffle(&mut unit, &mut rng);
            }
            columns.push(unit);
        }
        (0..count)
            .map(|index| {
                self.file.params.iter().zip(&columns).map(|(param, column)| (param.name.clone(), from_unit(param, column[index]))).collect()
            })
            .collect()
    }
}

/// Why the base scenarios name one file twice, if they do: its runs would count twice
/// in every point's statistics.
fn scenario_listed_twice(paths: &[PathBuf]) -> Option<String> {
    let mut seen = std::collections::BTreeMap::new();
    for (index, path) in paths.iter().enumerate() {
        if let Some(first) = seen.insert(crate::check::file_identity(path), index) {
            return Some(format!(
                "entries {first} and {index} name the same file ({}); each base scenario counts once in a point's statistics, so remove one",
                path.display()
            ));
        }
    }
    None
}

fn validate(file: &SweepFile) -> Result<(), (String, String)> {
    let sweep = &file.sweep;
    if let Some(message) = crate::scenario::unusable_name(&sweep.name) {
        return Err(("sweep.name".into(), message));
    }
    if sweep.scenarios.is_empty() {
        return Err(("sweep.scenarios".into(), "name at least one base scenario".into()));
    }
    if sweep.seeds_per_point == 0 || sweep.seeds_per_point > 100_000 {
        return Err(("sweep.seeds_per_point".into(), format!("{} is outside [1, 100000]", sweep.seeds_per_point)));
    }
    if file.params.is_empty() {
        return Err(("params".into(), "add at least one [[params]] entry".into()));
    }
    if sweep.profile.as_ref().is_some_and(|profile| profile.trim().is_empty()) {
        return Err(("sweep.profile".into(), "is empty: name a profile or give a profile file's path, or remove the line for none".into()));
    }
    if sweep.sampling != Sampling::Grid && (sweep.points == 0 || sweep.points > 1_000_000) {
        return Err((
            "sweep.points".into(),
            format!("{} is outside [1, 1000000] (random and latin_hypercube draw this many points)", sweep.points),
        ));
    }
    for (index, param) in file.params.iter().enumerate() {
        let field = |key: &str| format!("params[{index}].{key}");
        if !param.name.contains('.') {
            return Err((field("name"), format!("`{}` needs a section, e.g. engine.base_spread_bps", param.name)));
        }
        if let Some(earlier) = file.params[..index].iter().position(|other| other.name.trim() == param.name.trim()) {
            return Err((
                field("name"),
                format!("`{}` is already swept by params[{earlier}]; list all its values in one [[params]] entry", param.name),
            ));
        }
        if let Some(value) = repeated_value(&param.values) {
            return Err((field("values"), format!("{value} is listed twice; list each value once (a repeat runs the same point again)")));
        }
        let range = param.min.zip(param.max);
        match (param.values.is_empty(), range) {
            (false, Some(_)) => return Err((field("values"), "give values or min/max, not both".into())),
            (true, None) => return Err((field("values"), "give values, or min and max".into())),
            (false, None) if sweep.sampling != Sampling::Grid => {
                return Err((field("values"), "random and latin_hypercube sampling need min and max".into()));
            }
            (true, Some((min, max))) => {
                if !(min.is_finite() && max.is_finite() && min <= max) {
                    return Err((field("min"), format!("needs finite min <= max, got {min} and {max}")));
                }
                if param.scale == Scale::Log && min <= 0.0 {
                    return Err((field("min"), "a log scale needs min > 0".into()));
                }
                if sweep.sampling == Sampling::Grid && param.steps.is_none_or(|steps| steps < 1) {
                    return Err((field("steps"), "a grid over a range needs steps >= 1".into()));
                }
                if let Some(value) = rounded_twice(sweep.sampling, param) {
                    let message = format!(
                        "{} steps from {min} to {max} round to {value} twice (integer = true); use fewer steps or list the values",
                        param.steps.unwrap_or(1)
                    );
                    return Err((field("steps"), message));
                }
            }
            _ => {}
        }
    }
    for (index, table) in file.tables.iter().enumerate() {
        let name_ok = table.name.ends_with(".csv") && !table.name.contains('/') && !table.name.contains('\\');
        if !name_ok || ["results.csv", "summary.csv", "pareto.csv"].contains(&table.name.as_str()) {
            return Err((format!("tables[{index}].name"), format!("`{}` must be a new file name ending in .csv", table.name)));
        }
        if let Some(unknown) = table.group_by.iter().find(|name| !file.params.iter().any(|param| &param.name == *name)) {
            return Err((format!("tables[{index}].group_by"), format!("`{unknown}` is not a swept parameter")));
        }
    }
    if file.objectives.is_empty() || file.objectives.len() > 2 {
        return Err(("objectives".into(), "give one objective (ranked) or two (ranked and Pareto-filtered)".into()));
    }
    if let [first, second] = file.objectives.as_slice()
        && first.metric.trim() == second.metric.trim()
    {
        return Err((
            "objectives[1].metric".into(),
            format!("`{}` is already objectives[0]; a second objective trades it off against another metric", second.metric),
        ));
    }
    let runs = planned_runs(file);
    if runs.is_none_or(|runs| runs > MAX_PLANNED_RUNS) {
        let count = runs.map_or_else(|| "more than 2^64".to_string(), |runs| runs.to_string());
        return Err((
            "params".into(),
            format!(
                "the plan has {count} runs (points × scenarios × seeds); at most {MAX_PLANNED_RUNS}: use fewer values, steps or \
                 seeds, or random / latin_hypercube sampling with `points`"
            ),
        ));
    }
    Ok(())
}

/// Most runs one sweep plans (each keeps its point and record in memory; split a
/// larger study into several sweep files, or sample it).
pub const MAX_PLANNED_RUNS: u64 = 1_000_000;

/// Runs the plan will hold, counted without building it (`None` on overflow).
pub fn planned_runs(file: &SweepFile) -> Option<u64> {
    let points = match file.sweep.sampling {
        Sampling::Grid => file.params.iter().try_fold(1u64, |product, param| {
            let axis = if param.values.is_empty() { u64::from(param.steps.unwrap_or(1)) + 1 } else { param.values.len() as u64 };
            product.checked_mul(axis)
        })?,
        Sampling::Random | Sampling::LatinHypercube => u64::from(file.sweep.points),
    };
    points.checked_mul(file.sweep.scenarios.len() as u64)?.checked_mul(u64::from(file.sweep.seeds_per_point))
}

/// A whole number an integer grid over a range reaches twice (a repeat runs the same
/// point again). The grid rises, so a repeat is a neighbour's; grids larger than
/// a plan may hold are left to the plan's size check.
fn rounded_twice(sampling: Sampling, param: &SweptParam) -> Option<i64> {
    let steps = param.steps.filter(|&steps| sampling == Sampling::Grid && param.integer && u64::from(steps) < MAX_PLANNED_RUNS)?;
    let mut previous = None;
    for step in 0..=steps {
        let value = from_unit(param, step as f64 / steps as f64).as_integer();
        if value.is_some() && value == previous {
            return value;
        }
        previous = value;
    }
    None
}

fn grid_values(param: &SweptParam) -> Vec<toml::Value> {
    if !param.values.is_empty() {
        return param.values.clone();
    }
    let steps = param.steps.unwrap_or(1);
    (0..=steps).map(|step| from_unit(param, if steps == 0 { 0.0 } else { step as f64 / steps as f64 })).collect()
}

fn from_unit(param: &SweptParam, unit: f64) -> toml::Value {
    let (min, max) = (param.min.unwrap_or(0.0), param.max.unwrap_or(0.0));
    let value = match param.scale {
        Scale::Linear => min + (max - min) * unit,
        Scale::Log => (min.ln() + (max.ln() - min.ln()) * unit).exp(),
    };
    if param.integer { toml::Value::Integer(value.round() as i64) } else { toml::Value::Float((value * 1e12).round() / 1e12) }
}

/// A value listed more than once (numbers compare by value: 5 and 5.0 are one setting).
fn repeated_value(values: &[toml::Value]) -> Option<&toml::Value> {
    let same = |a: &toml::Value, b: &toml::Value| match (number(a), number(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    };
    values.iter().enumerate().find_map(|(index, value)| values[..index].iter().any(|earlier| same(earlier, value)).then_some(value))
}

fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Integer(integer) => Some(*integer as f64),
        toml::Value::Float(float) => Some(*float),
        _ => None,
    }
}

fn cartesian(axes: &[Vec<toml::Value>]) -> Vec<Vec<toml::Value>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.iter().flat_map(|prefix| axis.iter().map(move |value| [prefix.clone(), vec![value.clone()]].concat())).collect()
    })
}

fn shuffle(values: &mut [f64], rng: &mut ChaCha8Rng) {
    for index in (1..values.len()).rev() {
        let other = rng.random_range(0..=index);
        values.swap(index, other);
    }
}

/// A point's values as `--set` assignments.
pub fn assignments(point: &Point) -> Vec<String> {
    point.iter().map(|(name, value)| format!("{name}={value}")).collect()
}

/// A point's values as a map (for CSV and profiles).
pub fn point_map(point: &Point) -> BTreeMap<String, toml::Value> {
    point.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(sampling: &str, params: &str) -> Result<Sweep, ScenarioError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        let text = format!(
            "[sweep]\nname = \"t\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 2\nsampling = \"{sampling}\"\npoints = 8\nsampling_seed = 3\n\n{params}\n[[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n"
        );
        std::fs::write(&path, text).unwrap();
        Sweep::load(&path)
    }

    #[test]
    fn a_sweep_profile_is_read_once_and_a_missing_one_is_located() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("profiles")).unwrap();
        std::fs::write(dir.path().join("profiles/careful.toml"), "[engine]\nquote_size_lots = 4\nbase_spread_bps = 0.9\n").unwrap();
        std::fs::create_dir_all(dir.path().join("sweeps")).unwrap();
        let path = dir.path().join("sweeps/s.toml");
        let write = |profile: &str, extra: &str| {
            let text = format!(
                "[sweep]\nname = \"t\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 2\nprofile = \"{profile}\"\n{extra}\n[[params]]\nname = \"engine.base_spread_bps\"\nvalues = [0.2]\n\n[[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n"
            );
            std::fs::write(&path, text).unwrap();
            Sweep::load(&path)
        };
        // By name, from the nearest profiles/ folder above the sweep file; by path, from the sweep file's folder.
        for profile in ["careful", "../profiles/careful.toml"] {
            let sweep = write(profile, "").unwrap();
            assert_eq!(sweep.file.profile_engine.get("quote_size_lots"), Some(&toml::Value::Integer(4)), "{profile}");
            assert!(sweep.profile_path.unwrap().ends_with("careful.toml"));
        }
        let missing = write("reckless", "").unwrap_err();
        assert_eq!(missing.field, "sweep.profile", "{missing}");
        assert!(missing.to_string().contains("s.toml:5:") && missing.message.contains("there: careful"), "{missing}");
        assert!(write(" ", "").unwrap_err().message.contains("is empty"));
        let forged = write("careful", "\n[profile_engine]\nquote_size_lots = 99\n").unwrap_err();
        assert!(forged.message.contains("drydock writes profile_engine"), "{forged}");
    }

    #[test]
    fn grid_is_the_cartesian_product_in_order() {
        let sweep = sweep(
            "grid",
            "[[params]]\nname = \"engine.a\"\nvalues = [1, 2]\n\n[[params]]\nname = \"engine.b\"\nmin = 0.0\nmax = 1.0\nsteps = 2\n",
        )
        .unwrap();
        let points = sweep.points();
        assert_eq!(points.len(), 6);
        assert_eq!(assignments(&points[0]), ["engine.a=1", "engine.b=0.0"]);
        assert_eq!(assignments(&points[5]), ["engine.a=2", "engine.b=1.0"]);
    }

    #[test]
    fn latin_hypercube_covers_every_stratum_and_is_seeded() {
        let text = "[[params]]\nname = \"engine.a\"\nmin = 1.0\nmax = 100.0\nscale = \"log\"\n";
        let points = sweep("latin_hypercube", text).unwrap().points();
        assert_eq!(points, sweep("latin_hypercube", text).unwrap().points());
        let mut strata: Vec<usize> =
            points.iter().map(|point| ((point[0].1.as_float().unwrap().ln() / 100f64.ln()) * 8.0).floor() as usize).collect();
        strata.sort();
        assert_eq!(strata, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn bad_sweeps_name_file_line_and_field() {
        let error = sweep("random", "[[params]]\nname = \"engine.a\"\nvalues = [1, 2]\n").unwrap_err();
        assert!(error.field.contains("params[0].values"), "{error}");
        let error = sweep("grid", "[[params]]\nname = \"engine.a\"\nmin = 5.0\nmax = 1.0\nsteps = 2\n").unwrap_err();
        assert!(error.to_string().contains("s.toml:") && error.field == "params[0].min", "{error}");
        let error = sweep("grid", "[[params]]\nname = \"engine.a\"\nvalus = [1]\n").unwrap_err();
        assert!(error.to_string().contains("valus"), "{error}");
        // One metric twice as the two objectives: every point would be on the front.
        let twice = "[[params]]\nname = \"engine.a\"\nvalues = [1]\n\n[[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"minimize\"\n";
        let error = sweep("grid", twice).unwrap_err();
        assert!(error.field == "objectives[1].metric" && error.message.contains("already objectives[0]"), "{error}");
        // The name becomes a folder: no paths.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, "[sweep]\nname = \"../up\"\nscenarios = [\"calm.toml\"]\nseeds_per_point = 1\nsampling = \"grid\"\n\n[[params]]\nname = \"engine.a\"\nvalues = [1]\n\n[[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n").unwrap();
        let error = Sweep::load(&path).unwrap_err();
        assert!(error.field == "sweep.name" && error.message.contains("cannot name files"), "{error}");
        // A plan too large to hold is refused before it is built.
        let huge = "[[params]]\nname = \"engine.a\"\nmin = 0.0\nmax = 1.0\nsteps = 4000000000\n\n\
                    [[params]]\nname = \"engine.b\"\nmin = 0.0\nmax = 1.0\nsteps = 4000000000\n";
        let error = sweep("grid", huge).unwrap_err();
        assert!(error.field == "params" && error.message.contains("runs (points × scenarios × seeds); at most 1000000"), "{error}");
    }

    #[test]
    fn a_parameter_swept_twice_or_a_value_listed_twice_is_refused() {
        let twice = "[[params]]\nname = \"engine.a\"\nvalues = [1]\n\n[[params]]\nname = \"engine.a\"\nvalues = [2]\n";
        let error = sweep("grid", twice).unwrap_err();
        assert!(error.field == "params[1].name" && error.message.contains("already swept by params[0]"), "{error}");
        let repeated = "[[params]]\nname = \"engine.a\"\nvalues = [1, 2, 1.0]\n";
        let error = sweep("grid", repeated).unwrap_err();
        assert!(error.field == "params[0].values" && error.message.starts_with("1.0 is listed twice"), "{error}");
        let rounded = "[[params]]\nname = \"engine.a\"\nmin = 1\nmax = 3\nsteps = 3\ninteger = true\n";
        let error = sweep("grid", rounded).unwrap_err();
        assert!(error.field == "params[0].steps" && error.message.starts_with("3 steps from 1 to 3 round to 2 twice"), "{error}");
        assert!(sweep("grid", &rounded.replace("steps = 3", "steps = 2")).is_ok(), "1, 2, 3 are distinct");
        let words = "[[params]]\nname = \"engine.mode\"\nvalues = [\"a\", \"b\", \"a\"]\n";
        assert!(sweep("grid", words).unwrap_err().message.starts_with("\"a\" is listed twice"));
        assert!(sweep("grid", "[[params]]\nname = \"engine.a\"\nvalues = [1, 2, 3]\n").is_ok());
    }

    #[test]
    fn a_base_scenario_listed_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sweeps")).unwrap();
        std::fs::write(dir.path().join("calm.toml"), "").unwrap();
        let path = dir.path().join("sweeps/s.toml");
        let text = |scenarios: &str| {
            format!(
                "[sweep]\nname = \"t\"\nscenarios = [{scenarios}]\nseeds_per_point = 1\n\n[[params]]\nname = \"engine.a\"\nvalues = [1]\n\n[[objectives]]\nmetric = \"kpis.net_bps\"\ngoal = \"maximize\"\n"
            )
        };
        // The same file by two spellings: its runs would count twice in every point.
        std::fs::write(&path, text("\"../calm.toml\", \"../sweeps/../calm.toml\"")).unwrap();
        let error = Sweep::load(&path).unwrap_err();
        assert!(error.field == "sweep.scenarios" && error.message.starts_with("entries 0 and 1 name the same file"), "{error}");
        assert!(error.to_string().contains("s.toml:3:1"), "{error}");
        std::fs::write(&path, text("\"../calm.toml\"")).unwrap();
        assert!(Sweep::load(&path).is_ok());
    }
}
