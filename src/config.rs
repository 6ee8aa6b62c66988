//! The TOML sources config (`custseg.toml`): parsed with serde, validated once, and resolved into
//! a [`Config`] whose paths are absolute and whose values are typed. Errors name the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::schema::Kind;

/// The file as written by the user. Unknown keys are errors, so typos do not pass silently.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[settings]`.
    #[serde(default)]
    pub settings: SettingsFile,
    /// `[[sources]]`.
    #[serde(default)]
    pub sources: Vec<SourceFile>,
    /// `[rfm]`: defaults for `custseg rfm` / `score`.
    #[serde(default)]
    pub rfm: RfmFile,
    /// `[lifecycle]`: stage thresholds in days.
    #[serde(default)]
    pub lifecycle: crate::metrics::lifecycle::LifecycleOptions,
    /// `[tiers]`: value-score weights and tier shares.
    #[serde(default)]
    pub tiers: crate::metrics::tiers::TierOptions,
    /// `[behaviour]`: flag thresholds.
    #[serde(default)]
    pub behaviour: crate::metrics::behaviour::BehaviourOptions,
    /// `[[segments]]`: replaces the built-in named RFM segments (first match wins).
    #[serde(default)]
    pub segments: Vec<crate::metrics::rfm::SegmentRule>,
    /// `[privacy]`: pseudonyms, masked fields, the key file and the audit log (docs/privacy.md).
    #[serde(default)]
    pub privacy: Option<crate::privacy::PrivacyFile>,
}

/// Reads only the `[privacy]` section of the config at `path` (the rest is checked by the
/// command's own loading). None when the file has no such section.
pub fn load_privacy(path: &Path) -> Result<Option<crate::privacy::PrivacyFile>> {
    #[derive(Deserialize)]
    struct OnlyPrivacy {
        #[serde(default)]
        privacy: Option<crate::privacy::PrivacyFile>,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))?;
    let file: OnlyPrivacy = toml::from_str(&text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((0, 0));
        Error::config(format!(
            "{} line {line}, column {col}: {}",
            path.display(),
            e.message().replace('\n', " ")
        ))
        .hint("see docs/config.md for every key")
    })?;
    Ok(file.privacy)
}

/// `[rfm]` as written.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RfmFile {
    /// Score levels (default 5).
    pub bins: Option<u32>,
    /// Look-back window like "365d" or "52w".
    pub window: Option<String>,
}

/// The analysis sections of a config, validated.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// `[rfm]`.
    pub rfm: RfmFile,
    /// `[lifecycle]`.
    pub lifecycle: crate::metrics::lifecycle::LifecycleOptions,
    /// `[tiers]`.
    pub tiers: crate::metrics::tiers::TierOptions,
    /// `[behaviour]`.
    pub behaviour: crate::metrics::behaviour::BehaviourOptions,
    /// `[[segments]]` (empty: the built-in list).
    pub segments: Vec<crate::metrics::rfm::SegmentRule>,
    /// `[settings] timezone`, when given.
    pub timezone: Option<String>,
}

impl Analysis {
    /// Reads the analysis sections of a config (sources are not checked here).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))?;
        let origin = path.display().to_string();
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((0, 0));
            Error::config(format!(
                "{origin} line {line}, column {col}: {}",
                e.message().replace('\n', " ")
            ))
            .hint("see docs/config.md for every key")
        })?;
        let l = &file.lifecycle;
        if !(0 < l.new_days && 0 < l.active_days && l.active_days <= l.churn_days) {
            return Err(Error::config(format!(
                "{origin}: [lifecycle] needs 0 < new_days, 0 < active_days <= churn_days"
            )));
        }
        let t = &file.tiers;
        let weights = [t.frequency_weight, t.monetary_weight, t.interaction_weight];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0)
            || !(t.high_share > 0.0 && t.mid_share >= 0.0 && t.high_share + t.mid_share <= 1.0)
        {
            return Err(Error::config(format!(
                "{origin}: [tiers] weights must be >= 0 and 0 < high_share, high_share + mid_share <= 1"
            )));
        }
        for (i, seg) in file.segments.iter().enumerate() {
            for (key, range) in [("r", seg.r), ("f", seg.f), ("m", seg.m)] {
                if let Some([lo, hi]) = range {
                    if !(1 <= lo && lo <= hi && hi <= 5) {
                        return Err(Error::config(format!(
                            "{origin}: segments[{i}] (\"{}\").{key} = [{lo}, {hi}] must satisfy 1 <= lo <= hi <= 5",
                            seg.name
                        )));
                    }
                }
            }
        }
        Ok(Self {
            rfm: file.rfm,
            lifecycle: file.lifecycle,
            tiers: file.tiers,
            behaviour: file.behaviour,
            segments: file.segments,
            timezone: file.settings.timezone,
        })
    }
}

/// `[settings]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsFile {
    /// IANA zone name; naive timestamps are local in this zone.
    pub timezone: Option<String>,
    /// Informational currency code.
    pub currency: Option<String>,
    /// Country calling code removed from phone numbers (digits only, e.g. "86").
    pub phone_country_code: Option<String>,
}

/// One `[[sources]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Source name; the channel value of its rows.
    pub name: String,
    /// orders | customers | events.
    pub kind: Kind,
    /// File paths or globs, relative to the config file.
    pub paths: Vec<String>,
    /// csv | tsv | ndjson | parquet (default: from the extension).
    pub format: Option<FileFormat>,
    /// Text encoding (default utf-8).
    #[serde(default)]
    pub encoding: Encoding,
    /// One-character field delimiter for csv/tsv.
    pub delimiter: Option<String>,
    /// strftime patterns tried in order before ISO 8601.
    #[serde(default)]
    pub timestamp_formats: Vec<String>,
    /// Unit of epoch numbers in the timestamp column.
    pub timestamp_unit: Option<EpochUnit>,
    /// Factor applied to amount, unit_price and discount (e.g. 0.01 for cents).
    pub amount_scale: Option<f64>,
    /// canonical name = column name in this export.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Comma-separated (or the configured delimiter).
    Csv,
    /// Tab-separated.
    Tsv,
    /// Newline-delimited JSON objects.
    Ndjson,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// Guesses the format from a file name's extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        let ext = name.rsplit('.').next()?;
        match ext {
            "csv" | "txt" => Some(Self::Csv),
            "tsv" | "tab" => Some(Self::Tsv),
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            "parquet" | "pq" => Some(Self::Parquet),
            _ => None,
        }
    }
}

/// Text encodings custseg decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Encoding {
    /// UTF-8; a leading byte-order mark is tolerated.
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK (Chinese Windows code page 936).
    #[serde(rename = "gbk")]
    Gbk,
    /// GB 18030.
    #[serde(rename = "gb18030")]
    Gb18030,
    /// UTF-16 with a byte-order mark (little-endian without one).
    #[serde(rename = "utf-16", alias = "utf16")]
    Utf16,
}

impl Encoding {
    /// The name used in configs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
            Encoding::Gb18030 => "gb18030",
            Encoding::Utf16 => "utf-16",
        }
    }
}

/// Units of epoch timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EpochUnit {
    /// Seconds since 1970-01-01T00:00:00Z.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Zone in which naive timestamps are local and calendar dates are taken.
    pub timezone: chrono_tz::Tz,
    /// Informational currency code.
    pub currency: Option<String>,
    /// Country calling code (digits) removed from phone numbers.
    pub phone_country_code: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::UTC,
            currency: None,
            phone_country_code: None,
        }
    }
}

/// One input file of a source.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Where to read it (`-` for stdin).
    pub path: PathBuf,
    /// How to show it in rejects and messages: relative to the config file, never absolute.
    pub display: String,
}

/// A validated source.
#[derive(Debug, Clone)]
pub struct Source {
    /// Source name (channel of its rows).
    pub name: String,
    /// Record kind.
    pub kind: Kind,
    /// Files, in sorted order of each glob, globs in the order given.
    pub files: Vec<InputFile>,
    /// Explicit format, if any (else per file from the extension).
    pub format: Option<FileFormat>,
    /// Text encoding.
    pub encoding: Encoding,
    /// Field delimiter byte.
    pub delimiter: Option<u8>,
    /// strftime patterns tried first.
    pub timestamp_formats: Vec<String>,
    /// Epoch unit when the timestamp column holds numbers.
    pub timestamp_unit: Option<EpochUnit>,
    /// Factor for amount, unit_price and discount.
    pub amount_scale: f64,
    /// canonical name → export column name, canonical names sorted.
    pub columns: BTreeMap<String, String>,
}

impl Source {
    /// The export column mapped to `canonical`, if any.
    pub fn column(&self, canonical: &str) -> Option<&str> {
        self.columns.get(canonical).map(String::as_str)
    }

    /// The format of `file`: the configured one, else from its extension.
    pub fn format_of(&self, file: &InputFile) -> Result<FileFormat> {
        if let Some(f) = self.format {
            return Ok(f);
        }
        FileFormat::from_path(&file.path).ok_or_else(|| {
            Error::config(format!(
                "source \"{}\": cannot tell the format of {} from its extension",
                self.name, file.display
            ))
            .hint("set format = \"csv\" | \"tsv\" | \"ndjson\" | \"parquet\" in the source")
        })
    }
}

/// The whole validated config.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Settings.
    pub settings: Settings,
    /// Sources in config order.
    pub sources: Vec<Source>,
}

impl Config {
    /// A config for files that already use canonical column names: one source per file, named
    /// after the file (`stdin` for `-`, read as CSV), columns mapped from each header at read time.
    pub fn for_canonical_files(
        files: &[PathBuf],
        kind: Kind,
        timezone: Option<&str>,
    ) -> Result<Self> {
        if files.is_empty() {
            return Err(Error::usage("no input given").hint(
                "pass --config custseg.toml, or files with canonical column names (- for stdin)",
            ));
        }
        let settings = validate_settings(
            SettingsFile {
                timezone: timezone.map(str::to_string),
                currency: None,
                phone_country_code: None,
            },
            "--timezone",
        )
        .map_err(|e| {
            Error::usage(
                e.message
                    .replace("--timezone: settings.timezone", "--timezone"),
            )
        })?;
        let mut sources: Vec<Source> = Vec::new();
        for (i, path) in files.iter().enumerate() {
            let is_stdin = path.as_os_str() == "-";
            if !is_stdin && !path.is_file() {
                return Err(Error::input(format!("{}: no such file", path.display()))
                    .hint("check the path; use - to read CSV from standard input"));
            }
            let stem = if is_stdin {
                "stdin".to_string()
            } else {
                path.file_stem()
                    .map_or_else(|| format!("file{i}"), |s| s.to_string_lossy().to_string())
            };
            let name = if sources.iter().any(|s| s.name == stem) {
                format!("{stem}_{}", i + 1)
            } else {
                stem
            };
            sources.push(Source {
                name,
                kind,
                files: vec![InputFile {
                    path: path.clone(),
                    display: path.display().to_string(),
                }],
                format: is_stdin.then_some(FileFormat::Csv),
                encoding: Encoding::Utf8,
                delimiter: None,
                timestamp_formats: Vec::new(),
                timestamp_unit: None,
                amount_scale: 1.0,
                columns: BTreeMap::new(),
            });
        }
        Ok(Self { settings, sources })
    }

    /// Reads, parses and validates `path`; globs are resolved relative to its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::config(format!("cannot read config {}: {e}", path.display()))
                .hint("pass an existing file with --config")
        })?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, &path.display().to_string(), &base)
    }

    /// Parses config text; `origin` names it in errors and `base` anchors relative paths.
    pub fn parse(text: &str, origin: &str, base: &Path) -> Result<Self> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            let msg = e.message().replace('\n', " ");
            Error::config(format!("{origin} line {line}, column {col}: {msg}"))
                .hint("see docs/config.md for every key")
        })?;
        Self::validate(file, origin, base)
    }

    fn validate(file: ConfigFile, origin: &str, base: &Path) -> Result<Self> {
        let settings = validate_settings(file.settings, origin)?;
        if file.sources.is_empty() {
            return Err(Error::config(format!("{origin}: no [[sources]] given"))
                .hint("add at least one [[sources]] table; see docs/config.md"));
        }
        let mut sources = Vec::with_capacity(file.sources.len());
        for (i, s) in file.sources.into_iter().enumerate() {
            let src = validate_source(s, i, origin, base)?;
            if sources.iter().any(|o: &Source| o.name == src.name) {
                return Err(Error::config(format!(
                    "{origin}: sources[{i}].name \"{}\" is used twice",
                    src.name
                )));
            }
            sources.push(src);
        }
        Ok(Self { settings, sources })
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Validates `[settings]`.
pub fn validate_settings(s: SettingsFile, origin: &str) -> Result<Settings> {
    let timezone = match s.timezone.as_deref() {
        None => chrono_tz::UTC,
        Some(name) => name.parse::<chrono_tz::Tz>().map_err(|_| {
            Error::config(format!(
                "{origin}: settings.timezone \"{name}\" is not an IANA time zone"
            ))
            .hint("use a name like \"Asia/Shanghai\", \"Europe/Berlin\" or \"UTC\"")
        })?,
    };
    let phone_country_code = match s.phone_country_code {
        None => None,
        Some(c) => {
            let digits = c.trim().trim_start_matches('+');
            if digits.is_empty() || !digits.chars().all(|ch| ch.is_ascii_digit()) {
                return Err(Error::config(format!(
                    "{origin}: settings.phone_country_code \"{c}\" must be digits, like \"86\""
                )));
            }
            Some(digits.to_string())
        }
    };
    Ok(Settings {
        timezone,
        currency: s.currency,
        phone_country_code,
    })
}

fn validate_source(s: SourceFile, i: usize, origin: &str, base: &Path) -> Result<Source> {
    let key = |k: &str| format!("{origin}: sources[{i}] (\"{}\").{k}", s.name);
    if s.name.trim().is_empty() {
        return Err(Error::config(format!(
            "{origin}: sources[{i}].name is empty"
        )));
    }
    if s.paths.is_empty() {
        return Err(Error::config(format!("{} is empty", key("paths")))
            .hint("list the export files, e.g. paths = [\"orders_*.csv\"]"));
    }
    let allowed = s.kind.canonical_columns();
    for (canonical, export) in &s.columns {
        if s.kind != Kind::Customers && !allowed.contains(&canonical.as_str()) {
            return Err(Error::config(format!(
                "{} names \"{canonical}\", which is not a canonical {} column",
                key("columns"),
                s.kind.as_str()
            ))
            .hint(format!(
                "canonical {} columns: {}",
                s.kind.as_str(),
                allowed.join(", ")
            )));
        }
        if export.trim().is_empty() {
            return Err(Error::config(format!(
                "{} maps \"{canonical}\" to an empty column name",
                key("columns")
            )));
        }
    }
    for canonical in s.columns.keys() {
        let reserved = canonical.starts_with("__")
            || canonical.starts_with("raw:")
            || crate::schema::CUSTOMER_OUTPUT_COLUMNS.contains(&canonical.as_str())
                && !allowed.contains(&canonical.as_str());
        if reserved {
            return Err(Error::config(format!(
                "{} uses the reserved name \"{canonical}\"",
                key("columns")
            ))
            .hint("rename the attribute, e.g. source_system"));
        }
    }
    let has_key = ["customer_id", "email", "phone", "external_id"]
        .iter()
        .any(|k| s.columns.contains_key(*k));
    if !has_key {
        return Err(Error::config(format!(
            "{} maps none of customer_id, email, phone, external_id",
            key("columns")
        ))
        .hint("map at least one customer key so rows can be tied to a customer"));
    }
    let time_col = match s.kind {
        Kind::Orders => Some("ordered_at"),
        Kind::Events => Some("occurred_at"),
        Kind::Customers => None,
    };
    if let Some(t) = time_col {
        if !s.columns.contains_key(t) {
            return Err(
                Error::config(format!("{} does not map \"{t}\"", key("columns"))).hint(format!(
                    "{} sources need a timestamp column",
                    s.kind.as_str()
                )),
            );
        }
    }
    if s.kind == Kind::Orders
        && !s.columns.contains_key("amount")
        && !(s.columns.contains_key("quantity") && s.columns.contains_key("unit_price"))
    {
        return Err(Error::config(format!(
            "{} maps neither \"amount\" nor both \"quantity\" and \"unit_price\"",
            key("columns")
        )));
    }
    let delimiter = match s.delimiter.as_deref() {
        None => None,
        Some("\\t") | Some("\t") => Some(b'\t'),
        Some(d) if d.len() == 1 => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(Error::config(format!(
                "{} \"{d}\" must be a single ASCII character",
                key("delimiter")
            )))
        }
    };
    let amount_scale = s.amount_scale.unwrap_or(1.0);
    if !amount_scale.is_finite() || amount_scale <= 0.0 {
        return Err(Error::config(format!(
            "{} must be a positive number",
            key("amount_scale")
        )));
    }
    for f in &s.timestamp_formats {
        if chrono::format::StrftimeItems::new(f).any(|it| matches!(it, chrono::format::Item::Error))
        {
            return Err(Error::config(format!(
                "{} \"{f}\" is not a valid strftime pattern",
                key("timestamp_formats")
            )));
        }
    }
    let mut files = Vec::new();
    for pattern in &s.paths {
        let found = expand(base, pattern)
            .map_err(|e| Error::config(format!("{}: \"{pattern}\": {e}", key("paths"))))?;
        if found.is_empty() {
            return Err(Error::input(format!(
                "source \"{}\": no file matches \"{pattern}\" (relative to {})",
                s.name,
                if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base
                }
                .display()
            ))
            .hint("check paths in the config; they are relative to the config file"));
        }
        files.extend(found);
    }
    Ok(Source {
        name: s.name,
        kind: s.kind,
        files,
        format: s.format,
        encoding: s.encoding,
        delimiter,
        timestamp_formats: s.timestamp_formats,
        timestamp_unit: s.timestamp_unit,
        amount_scale,
        columns: s.columns,
    })
}

/// Expands one path or glob relative to `base`, sorted, files only.
fn expand(base: &Path, pattern: &str) -> std::result::Result<Vec<InputFile>, String> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let is_glob = pattern.contains(['*', '?', '[']);
    if !is_glob {
        return Ok(if full.is_file() {
            vec![InputFile {
                path: full,
                display: pattern.to_string(),
            }]
        } else {
            Vec::new()
        });
    }
    let text = full.to_string_lossy().to_string();
    let mut out: Vec<PathBuf> = glob::glob(&text)
        .map_err(|e| e.to_string())?
        .filter_map(std::result::Result::ok)
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out
        .into_iter()
        .map(|p| {
            let display = p
                .strip_prefix(base)
                .map(|r| r.display().to_string())
                .unwrap_or_else(|_| {
                    p.file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().to_string())
                });
            InputFile { path: p, display }
        })
        .collect())
}
