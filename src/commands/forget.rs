//! `custseg forget`: the right to erasure. Removes one customer from an ingest directory
//! (orders, customers, events and their rejected rows) and appends what was done to the audit log.
//!
//! ```text
//! custseg forget --config examples/shop/custseg.toml --out out/shop --email jia.xu1987@126.com
//! custseg forget --out out/shop --customer C0042
//! ```

use std::path::PathBuf;

use serde::Deserialize;

use crate::commands::{Ctx, Status};
use crate::error::{Error, Result};
use crate::privacy::erase::{self, Target};
use crate::privacy::{audit, Pseudonymizer};

const EXAMPLES: &str = "\
Examples:
  # Everything ingest tied to this e-mail address, in the ingest directory out/shop
  custseg forget --config examples/shop/custseg.toml --out out/shop --email jia.xu1987@126.com

  # By customer id, or by mobile number (cleaned like ingest cleans it: +86 138-0013-8000 works)
  custseg forget --out out/shop --customer C0042
  custseg forget --config examples/shop/custseg.toml --out out/shop --phone 13800138000

Removes every row of orders.parquet, customers.parquet and events.parquet whose customer_id is
the customer's, and the rejected rows in rejects.csv whose raw values hold the identifier;
rewrites those files atomically, updates summary.json (erased counts) and manifest.json, and
appends one JSON line to the audit log (--out/audit.log, or [privacy] audit_log): the time, the
hashed identifier and customer ids, and the rows removed per file. Running it again removes
nothing and is logged again. A customer that is not found is logged with zeros, with a note on
stderr, exit 0. --config supplies phone_country_code, the key file and the audit log path.
docs/privacy.md.";

/// Erase one customer from an ingest directory and record it in the audit log.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
#[command(group(clap::ArgGroup::new("who").required(true).args(["customer", "email", "phone"])))]
pub struct Args {
    /// The config the directory was ingested with ([settings] phone_country_code, [privacy]).
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The ingest directory (the --out of custseg ingest); -o is accepted as well.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The customer_id as it appears in the ingested tables.
    #[arg(long, value_name = "ID")]
    pub customer: Option<String>,
    /// An e-mail address of the customer.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// A phone number of the customer.
    #[arg(long, value_name = "PHONE")]
    pub phone: Option<String>,
}

/// Runs `custseg forget`.
pub fn run(args: Args, ctx: &Ctx) -> Result<Status> {
    let dir = match (&args.out, &ctx.output) {
        (Some(d), _) | (None, Some(d)) => d.clone(),
        (None, None) => {
            return Err(Error::usage("forget needs the ingest directory")
                .hint("pass --out DIR, the --out directory of custseg ingest"))
        }
    };
    let target = match (args.customer, args.email, args.phone) {
        (Some(id), None, None) => Target::CustomerId(id),
        (None, Some(e), None) => Target::Email(e),
        (None, None, Some(p)) => Target::Phone(p),
        _ => {
            return Err(Error::usage(
                "give exactly one of --customer, --email, --phone",
            ))
        }
    };
    let (phone_country_code, privacy) = match &args.config {
        Some(path) => (country_code(path)?, crate::config::load_privacy(path)?),
        None => (None, None),
    };
    let base = args
        .config
        .as_deref()
        .and_then(std::path::Path::parent)
        .map_or_else(PathBuf::new, std::path::Path::to_path_buf);
    // The key, when one is configured, finds rows written with --pseudonymize and hashes the
    // audit entry; forgetting works without one.
    let key_file = privacy
        .as_ref()
        .and_then(|p| p.key_file.as_ref())
        .map(|k| base.join(k));
    let has_env_key = std::env::var_os(crate::privacy::pseudonym::KEY_ENV)
        .is_some_and(|v| !v.to_string_lossy().trim().is_empty());
    let key = if has_env_key || key_file.is_some() {
        Some(Pseudonymizer::load(key_file.as_deref())?)
    } else if ctx.privacy.pseudonymize {
        return Err(crate::privacy::pseudonym::missing_key());
    } else {
        None
    };
    let log = privacy
        .as_ref()
        .and_then(|p| p.audit_log.as_ref())
        .map_or_else(|| dir.join(audit::AUDIT_FILE), |l| base.join(l));

    erase::normalise(&target, phone_country_code.as_deref())?;
    if !dir.is_dir() {
        return Err(
            Error::input(format!("{}: no such directory", dir.display()))
                .hint("pass the --out directory of custseg ingest"),
        );
    }
    let _lock = crate::io::lock::DirLock::acquire(&dir)?;
    let erasure = erase::erase(&dir, &target, phone_country_code.as_deref(), key.as_ref())?;

    let mut entry = serde_json::Map::new();
    entry.insert("action".into(), "forget".into());
    entry.insert("dir".into(), dir.display().to_string().into());
    entry.insert("by".into(), target.kind().into());
    entry.insert(
        "id".into(),
        audit::hash_id(
            &format!("{}:{}", target.kind(), erasure.normalised),
            key.as_ref(),
        )
        .into(),
    );
    entry.insert(
        "customers".into(),
        erasure
            .customer_ids
            .iter()
            .map(|id| serde_json::Value::from(audit::hash_id(id, key.as_ref())))
            .collect::<Vec<_>>()
            .into(),
    );
    entry.insert(
        "removed".into(),
        erasure
            .removed
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    );
    audit::append(&log, entry)?;

    if !ctx.quiet || erasure.total() == 0 {
        let counts = erasure
            .removed
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        if erasure.total() == 0 {
            eprintln!(
                "custseg: note: no rows for this {} in {}; nothing removed (logged in {})",
                target.kind(),
                dir.display(),
                log.display()
            );
        } else {
            eprintln!(
                "custseg: forgot {} customer id(s): removed {counts}; logged in {}",
                erasure.customer_ids.len(),
                log.display()
            );
        }
    }
    Ok(Status::Success)
}

/// `[settings] phone_country_code` of the config, read on its own: the exports the config names
/// may be gone by the time a customer asks to be forgotten.
fn country_code(path: &std::path::Path) -> Result<Option<String>> {
    #[derive(Deserialize)]
    struct OnlySettings {
        #[serde(default)]
        settings: crate::config::SettingsFile,
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))?;
    let file: OnlySettings = toml::from_str(&text).map_err(|e| {
        Error::config(format!(
            "{}: {}",
            path.display(),
            e.message().replace('\n', " ")
        ))
        .hint("see docs/config.md for every key")
    })?;
    Ok(
        crate::config::validate_settings(file.settings, &path.display().to_string())?
            .phone_country_code,
    )
}
