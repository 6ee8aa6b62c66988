//! Masking rules for people-facing outputs: a masked value keeps enough to recognise a customer
//! you already know (the first and last characters) and hides the rest. Every rule works on
//! Unicode characters, never bytes, and is idempotent: masking a masked value gives it back.
//! docs/privacy.md lists the rules with examples.

/// Phone: with n characters, n ≥ 8 keeps the first 3 and the last 4 (`13812345678` →
/// `138****5678`); 5 ≤ n ≤ 7 keeps the last 2 (`12345` → `***45`); n ≤ 4 hides all.
pub fn phone(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let (head, tail) = match n {
        8.. => (3, 4),
        5..=7 => (0, 2),
        _ => (0, 0),
    };
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(n - head - tail));
    out.extend(&chars[n - tail..]);
    out
}

/// E-mail: the first character of the local part, `***`, then `@` and the domain unchanged
/// (`user@qq.com` → `u***@qq.com`). Without an `@` the value is masked like an external id.
pub fn email(value: &str) -> String {
    match value.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => external_id(value),
    }
}

/// Name: every whitespace-separated word becomes its first character and `**`, so the length is
/// hidden too (`Zhang San` → `Z** S**`, `张三` → `张**`).
pub fn name(value: &str) -> String {
    value
        .split_whitespace()
        .map(|word| {
            let first: String = word.chars().take(1).collect();
            format!("{first}**")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// External id: n ≥ 6 characters keep the first 2 and the last 2 around `***`
/// (`tb_b3fb52eb` → `tb***eb`); shorter ids become `***`.
pub fn external_id(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    if n >= 6 {
        let head: String = chars[..2].iter().collect();
        let tail: String = chars[n - 2..].iter().collect();
        format!("{head}***{tail}")
    } else {
        "***".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("12345"), "***45");
        assert_eq!(phone("1234"), "****");
        assert_eq!(phone(""), "");
        assert_eq!(email("user@qq.com"), "u***@qq.com");
        assert_eq!(email("@qq.com"), "***@qq.com");
        assert_eq!(name("Zhang San"), "Z** S**");
        assert_eq!(name("张三"), "张**");
        assert_eq!(external_id("tb_b3fb52eb"), "tb***eb");
        assert_eq!(external_id("abc"), "***");
    }

    #[test]
    fn masking_is_idempotent() {
        for v in ["13812345678", "12345", "861381234567890", "王"] {
            assert_eq!(phone(&phone(v)), phone(v));
        }
        for v in ["user@qq.com", "a@b", "x"] {
            assert_eq!(email(&email(v)), email(v));
        }
        for v in ["Zhang San", "张三", "  a  b "] {
            assert_eq!(name(&name(v)), name(v));
        }
        for v in ["tb_b3fb52eb", "abc"] {
            assert_eq!(external_id(&external_id(v)), external_id(v));
        }
    }
}
