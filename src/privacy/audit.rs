//! The erasure audit log: one JSON object per line, appended (never rewritten) by
//! `custseg forget`, created with mode 0600. Each line names what was asked and what was removed
//! without holding the personal data itself: identifiers are hashed (HMAC-SHA256 with the pseudonym
//! key when one is configured, else plain SHA-256), and `prev` is the SHA-256 of the line before,
//! so editing or deleting an earlier line breaks the chain. docs/privacy.md, "Audit log".

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{io_error, Result};
use crate::privacy::Pseudonymizer;

/// Default file name of the audit log inside an ingest directory.
pub const AUDIT_FILE: &str = "audit.log";

/// How identifiers are hashed in the log.
pub fn hash_id(value: &str, key: Option<&Pseudonymizer>) -> String {
    match key {
        Some(k) => format!("hmac-sha256:{}", k.full_digest(value)),
        None => format!("sha256:{}", sha256_hex(value.as_bytes())),
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Appends `entry` (one JSON object) to the log at `path` with `time`, `custseg_version` and
/// `prev` (SHA-256 of the last line, or null for the first) added in front. Returns the line.
pub fn append(path: &Path, entry: serde_json::Map<String, serde_json::Value>) -> Result<String> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| io_error("open the audit log", path, e))?;
    let prev = last_line(&mut file).map_err(|e| io_error("read the audit log", path, e))?;
    let mut line = serde_json::Map::new();
    line.insert(
        "time".into(),
        chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
            .into(),
    );
    line.insert(
        "custseg_version".into(),
        env!("CARGO_PKG_VERSION").to_string().into(),
    );
    line.extend(entry);
    line.insert(
        "prev".into(),
        prev.map_or(serde_json::Value::Null, |l| sha256_hex(l.as_bytes()).into()),
    );
    let text = serde_json::Value::Object(line).to_string();
    file.write_all(format!("{text}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("append to the audit log", path, e))?;
    Ok(text)
}

/// The last non-empty line of the file, without its newline.
fn last_line(file: &mut std::fs::File) -> std::io::Result<Option<String>> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    // Lines are a few hundred bytes; read a tail big enough for the last complete one.
    let mut take = 4096u64.min(len);
    loop {
        file.seek(SeekFrom::Start(len - take))?;
        let mut buf = Vec::with_capacity(usize::try_from(take).unwrap_or(4096));
        std::io::Read::by_ref(file)
            .take(take)
            .read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let trimmed = text.trim_end_matches('\n');
        match trimmed.rfind('\n') {
            Some(i) => return Ok(Some(trimmed[i + 1..].to_string())),
            None if take == len => return Ok((!trimmed.is_empty()).then(|| trimmed.to_string())),
            None => take = (take * 4).min(len),
        }
    }
}

/// Checks the `prev` chain of a log: the 1-based number of the first line whose `prev` does not
/// match the line before it, if any.
pub fn broken_link(text: &str) -> Option<usize> {
    let mut before: Option<&str> = None;
    for (i, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        let want = before.map(|b| sha256_hex(b.as_bytes()));
        let got = value["prev"].as_str().map(str::to_string);
        if got != want {
            return Some(i + 1);
        }
        before = Some(line);
    }
    None
}
