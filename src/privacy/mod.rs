//! Privacy: keyed pseudonyms, masking, the erasure audit log and output manifests.
//!
//! What a written table looks like is decided by one [`Policy`], applied by the one writer
//! (`io::write`) and the report renderers to every table they write, so no command can forget it:
//!
//! - `--pseudonymize`: e-mail, phone, name and external id columns, and customer ids derived from
//!   them (`email:…`, `phone:…`, `ext:…`), become keyed pseudonyms ([`pseudonym`]) in every output.
//! - `--redact FIELD,…`: those fields are masked ([`mask`]) in every output.
//! - Outputs for people (reports, and tables in the `table`, `markdown` and `html` formats) mask
//!   e-mail and phone unless `--show-pii`.
//!
//! The policy is process-wide (installed once the flags and the config are known) because every
//! writer path must honour it, including those of commands added later. docs/privacy.md has the
//! rules.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::report::{Chart, Report};
use crate::schema;

pub mod audit;
pub mod erase;
pub mod manifest;
pub mod mask;
pub mod pseudonym;

pub use pseudonym::Pseudonymizer;

/// A kind of personal data custseg knows how to mask and pseudonymize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `email`.
    Email,
    /// `phone`.
    Phone,
    /// `name`.
    Name,
    /// `external_id` (marketplace buyer ids and the like).
    ExternalId,
}

impl Field {
    /// Every field, in documentation order.
    pub const ALL: [Field; 4] = [Field::Email, Field::Phone, Field::Name, Field::ExternalId];

    /// The canonical column holding this field.
    pub fn column(self) -> &'static str {
        match self {
            Field::Email => schema::EMAIL,
            Field::Phone => schema::PHONE,
            Field::Name => schema::NAME,
            Field::ExternalId => schema::EXTERNAL_ID,
        }
    }

    /// The field stored in canonical column `name`, if any.
    pub fn of_column(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.column() == name)
    }

    /// Parses a `--redact` / `[privacy] redact` name.
    pub fn parse(text: &str) -> Result<Self> {
        Self::of_column(text.trim()).ok_or_else(|| {
            Error::usage(format!(
                "--redact: \"{text}\" is not a field custseg can mask"
            ))
            .hint("use email, phone, name or external_id, e.g. --redact name,phone")
        })
    }

    /// The word hashed before the value (`email:…`), as in derived customer ids.
    pub fn kind(self) -> &'static str {
        match self {
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Name => "name",
            Field::ExternalId => "ext",
        }
    }

    /// Prefix of this field's pseudonyms.
    pub fn prefix(self) -> &'static str {
        match self {
            Field::Email => "em",
            Field::Phone => "ph",
            Field::Name => "nm",
            Field::ExternalId => "ex",
        }
    }

    /// The field a derived customer id (`email:…`, `phone:…`, `ext:…`) embeds, and the value.
    pub fn of_derived_id(id: &str) -> Option<(Self, &str)> {
        [Field::Email, Field::Phone, Field::ExternalId]
            .into_iter()
            .find_map(|f| id.strip_prefix(f.kind())?.strip_prefix(':').map(|v| (f, v)))
    }

    /// The masked form of a value of this field.
    pub fn mask(self, value: &str) -> String {
        match self {
            Field::Email => mask::email(value),
            Field::Phone => mask::phone(value),
            Field::Name => mask::name(value),
            Field::ExternalId => mask::external_id(value),
        }
    }
}

/// Who reads an output: decides whether e-mail and phone are masked by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Data files for other programs (CSV, Parquet, JSON of a table).
    Data,
    /// People: reports, and tables in the table, markdown and html formats.
    People,
}

/// What happens to personal data in outputs.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Replace personal data by keyed pseudonyms (`--pseudonymize`).
    pub pseudonyms: Option<Pseudonymizer>,
    /// Fields masked in every output (`--redact`).
    pub redact: BTreeSet<Field>,
    /// Do not mask e-mail and phone in outputs for people (`--show-pii`).
    pub show_pii: bool,
    /// Pseudonyms were asked for but no key has been found yet: writing anything is an error.
    pub missing_key: bool,
}

/// What to do with one field for one audience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Keep,
    Mask,
    Pseudonymize,
}

impl Policy {
    fn action(&self, field: Field, audience: Audience) -> Action {
        if self.pseudonyms.is_some() {
            Action::Pseudonymize
        } else if self.redact.contains(&field)
            || audience == Audience::People
                && !self.show_pii
                && matches!(field, Field::Email | Field::Phone)
        {
            Action::Mask
        } else {
            Action::Keep
        }
    }

    /// The protected form of one value of `field`.
    pub fn value(&self, field: Field, value: &str, audience: Audience) -> String {
        match (self.action(field, audience), &self.pseudonyms) {
            (Action::Pseudonymize, Some(p)) => p.field(field, value),
            (Action::Mask, _) => field.mask(value),
            _ => value.to_string(),
        }
    }

    /// The protected form of a customer id: derived ids follow the field they embed (the prefix
    /// is kept when masking: `phone:138****8000`; the whole id becomes `cu_…` when
    /// pseudonymizing); other ids are kept.
    pub fn customer_id(&self, id: &str, audience: Audience) -> String {
        let Some((field, rest)) = Field::of_derived_id(id) else {
            return id.to_string();
        };
        match (self.action(field, audience), &self.pseudonyms) {
            (Action::Pseudonymize, Some(p)) => p.customer_id(id).unwrap_or_else(|| id.to_string()),
            (Action::Mask, _) => format!("{}:{}", field.kind(), field.mask(rest)),
            _ => id.to_string(),
        }
    }

    /// True when this policy changes nothing for `audience`.
    pub fn is_identity(&self, audience: Audience) -> bool {
        !self.missing_key
            && Field::ALL
                .into_iter()
                .all(|f| self.action(f, audience) == Action::Keep)
    }

    /// `df` with its personal-data columns protected for `audience`. Columns are found by their
    /// canonical names (`email`, `phone`, `name`, `external_id`, `customer_id`).
    pub fn protect(&self, df: &DataFrame, audience: Audience) -> Result<DataFrame> {
        self.protect_with_map(df, audience, &mut HashMap::new())
    }

    /// Like [`Self::protect`], and records every changed value (old → new) in `changed`, so chart
    /// labels taken from the same values can follow.
    fn protect_with_map(
        &self,
        df: &DataFrame,
        audience: Audience,
        changed: &mut HashMap<String, String>,
    ) -> Result<DataFrame> {
        if self.missing_key {
            return Err(pseudonym::missing_key());
        }
        if self.is_identity(audience) {
            return Ok(df.clone());
        }
        let mut out = df.clone();
        for column in df.columns() {
            let name = column.name().as_str();
            let field = Field::of_column(name);
            if field.is_none() && name != schema::CUSTOMER_ID {
                continue;
            }
            if column.dtype() != &DataType::String {
                continue;
            }
            let values = column.str()?;
            let mut cache: HashMap<&str, String> = HashMap::new();
            let protected: StringChunked = values
                .iter()
                .map(|v| {
                    v.map(|v| {
                        cache
                            .entry(v)
                            .or_insert_with(|| match field {
                                Some(f) => self.value(f, v, audience),
                                None => self.customer_id(v, audience),
                            })
                            .clone()
                    })
                })
                .collect();
            for (old, new) in &cache {
                if *old != new.as_str() {
                    changed.insert((*old).to_string(), new.clone());
                }
            }
            out.with_column(protected.with_name(column.name().clone()).into_column())?;
        }
        Ok(out)
    }

    /// `report` with every section table protected for people, and chart labels that showed a
    /// protected value replaced by its protected form.
    pub fn protect_report(&self, report: &Report) -> Result<Report> {
        let mut out = report.clone();
        if self.is_identity(Audience::People) {
            return Ok(out);
        }
        for section in &mut out.sections {
            let mut changed = HashMap::new();
            section.table =
                self.protect_with_map(&section.table, Audience::People, &mut changed)?;
            if changed.is_empty() {
                continue;
            }
            let swap = |labels: &mut Vec<String>| {
                for l in labels.iter_mut() {
                    if let Some(new) = changed.get(l.as_str()) {
                        l.clone_from(new);
                    }
                }
            };
            match &mut section.chart {
                Some(Chart::Bars { labels, .. } | Chart::Line { labels, .. }) => swap(labels),
                Some(Chart::Heatmap { rows, columns, .. }) => {
                    swap(rows);
                    swap(columns);
                }
                None => {}
            }
        }
        Ok(out)
    }
}

impl Policy {
    /// The `raw` column of ingest's rejects with the policy applied to the values of columns a
    /// source maps to e-mail, phone, name or external id (for programs: pseudonyms or `--redact`
    /// masks). A changed object is written back with its keys sorted.
    pub fn protect_rejects(
        &self,
        rejects: &DataFrame,
        config: &crate::config::Config,
    ) -> Result<DataFrame> {
        if self.missing_key {
            return Err(pseudonym::missing_key());
        }
        if self.is_identity(Audience::Data) || rejects.height() == 0 {
            return Ok(rejects.clone());
        }
        // source name -> export column -> field
        let mut fields: HashMap<&str, HashMap<&str, Field>> = HashMap::new();
        for source in &config.sources {
            let map = fields.entry(source.name.as_str()).or_default();
            for (canonical, export) in &source.columns {
                if let Some(f) = Field::of_column(canonical) {
                    map.insert(export.as_str(), f);
                }
            }
        }
        let sources = rejects.column("source")?.str()?.clone();
        let raw = rejects.column("raw")?.str()?.clone();
        let protected: StringChunked = sources
            .iter()
            .zip(raw.iter())
            .map(|(source, raw)| {
                let raw = raw?;
                let Some(map) = source.and_then(|s| fields.get(s)) else {
                    return Some(raw.to_string());
                };
                let Ok(serde_json::Value::Object(mut obj)) = serde_json::from_str(raw) else {
                    return Some(raw.to_string());
                };
                let mut changed = false;
                for (key, value) in &mut obj {
                    if let (Some(field), Some(text)) = (map.get(key.as_str()), value.as_str()) {
                        let new = self.value(*field, text, Audience::Data);
                        if new != text {
                            *value = serde_json::Value::String(new);
                            changed = true;
                        }
                    }
                }
                Some(if changed {
                    serde_json::Value::Object(obj).to_string()
                } else {
                    raw.to_string()
                })
            })
            .collect();
        let mut out = rejects.clone();
        out.with_column(protected.with_name("raw".into()).into_column())?;
        Ok(out)
    }
}

fn slot() -> &'static RwLock<Arc<Policy>> {
    static POLICY: std::sync::OnceLock<RwLock<Arc<Policy>>> = std::sync::OnceLock::new();
    POLICY.get_or_init(|| RwLock::new(Arc::new(Policy::default())))
}

/// Makes `policy` the one every writer applies from now on.
pub fn install(policy: Policy) {
    let mut guard = slot()
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *guard = Arc::new(policy);
}

/// The policy in force (the default masks e-mail and phone in outputs for people).
pub fn current() -> Arc<Policy> {
    slot()
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// The `[privacy]` section of a config, as written.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyFile {
    /// Pseudonymize every output, as `--pseudonymize` does.
    #[serde(default)]
    pub pseudonymize: bool,
    /// A file holding the pseudonym key (mode 600), relative to the config file.
    pub key_file: Option<std::path::PathBuf>,
    /// Fields masked in every output, as `--redact` does.
    #[serde(default)]
    pub redact: Vec<String>,
    /// The erasure audit log of `custseg forget` (default: `<ingest dir>/audit.log`), relative
    /// to the config file.
    pub audit_log: Option<std::path::PathBuf>,
}

/// The privacy flags as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct PrivacyFlags {
    /// `--pseudonymize`.
    pub pseudonymize: bool,
    /// `--redact` fields as typed.
    pub redact: Vec<String>,
    /// `--show-pii`.
    pub show_pii: bool,
}

/// Resolves flags and the config's `[privacy]` section (whose relative paths are anchored at
/// `base`, the config's folder) into a policy; asks for the key only when pseudonymizing.
pub fn resolve(
    flags: &PrivacyFlags,
    file: Option<&PrivacyFile>,
    base: &std::path::Path,
) -> Result<Policy> {
    let mut redact = BTreeSet::new();
    for name in flags
        .redact
        .iter()
        .chain(file.map(|f| f.redact.as_slice()).unwrap_or_default())
    {
        for part in name.split(',').filter(|p| !p.trim().is_empty()) {
            redact.insert(Field::parse(part)?);
        }
    }
    let pseudonymize = flags.pseudonymize || file.is_some_and(|f| f.pseudonymize);
    let pseudonyms = if pseudonymize {
        let key_file = file.and_then(|f| f.key_file.as_ref()).map(|p| base.join(p));
        Some(Pseudonymizer::load(key_file.as_deref())?)
    } else {
        None
    };
    Ok(Policy {
        pseudonyms,
        redact,
        show_pii: flags.show_pii,
        missing_key: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_get_masked_phone_and_email_by_default() {
        let p = Policy::default();
        let df = df!(
            "customer_id" => ["C1", "phone:13812345678", "email:ab@qq.com"],
            "email" => [Some("ab@qq.com"), None, Some("ab@qq.com")],
            "name" => ["Zhang San", "Li Si", "Wang Wu"],
        )
        .unwrap();
        let data = p.protect(&df, Audience::Data).unwrap();
        assert!(data.equals_missing(&df));
        let people = p.protect(&df, Audience::People).unwrap();
        let ids: Vec<_> = people
            .column("customer_id")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(
            ids,
            [
                Some("C1"),
                Some("phone:138****5678"),
                Some("email:a***@qq.com")
            ]
        );
        assert_eq!(
            people.column("name").unwrap().str().unwrap().get(0),
            Some("Zhang San")
        );
    }

    #[test]
    fn redact_applies_to_data_too() {
        let p = Policy {
            redact: [Field::Name].into_iter().collect(),
            show_pii: true,
            ..Policy::default()
        };
        let df = df!("name" => ["Zhang San"], "phone" => ["13812345678"]).unwrap();
        let out = p.protect(&df, Audience::Data).unwrap();
        assert_eq!(
            out.column("name").unwrap().str().unwrap().get(0),
            Some("Z** S**")
        );
        assert_eq!(
            out.column("phone").unwrap().str().unwrap().get(0),
            Some("13812345678")
        );
    }
}
