//! What Redis says about its own durability, and what each setting means for the promise that
//! `OK` means durable.

use redis::aio::ConnectionLike;

/// One setting of the Redis server that weakens the promise, with what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DurabilityWarning {
    /// The setting, as `CONFIG GET` names it, and its value; `CONFIG` when Redis refused to
    /// answer.
    pub setting: String,
    /// What it means for a recall answered `OK`.
    pub meaning: &'static str,
}

/// Reads `appendonly`, `appendfsync` and `maxmemory-policy` and says what weakens the promise.
/// An empty list means Redis writes each command to its append-only file before it answers and
/// never evicts a key.
pub(crate) async fn check<C: ConnectionLike>(connection: &mut C) -> Vec<DurabilityWarning> {
    let answer: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("appendonly")
        .arg("appendfsync")
        .arg("maxmemory-policy")
        .query_async(connection)
        .await;
    let Ok(pairs) = answer else {
        return unanswered();
    };
    let value = |name: &str| {
        pairs
            .chunks(2)
            .find(|pair| pair[0].eq_ignore_ascii_case(name))
            .and_then(|pair| pair.get(1))
            .map(String::as_str)
            .unwrap_or("")
    };
    warnings(
        value("appendonly"),
        value("appendfsync"),
        value("maxmemory-policy"),
    )
}

/// The warning when Redis does not tell its settings (`CONFIG` renamed or denied, or no answer).
pub(crate) fn unanswered() -> Vec<DurabilityWarning> {
    vec![DurabilityWarning {
        setting: "CONFIG GET".to_owned(),
        meaning: "Redis did not tell its durability settings: check appendonly yes, \
                  appendfsync always and maxmemory-policy noeviction yourself",
    }]
}

/// What the three settings mean for the promise.
pub(crate) fn warnings(
    appendonly: &str,
    appendfsync: &str,
    policy: &str,
) -> Vec<DurabilityWarning> {
    let mut found = Vec::new();
    let mut warn = |name: &str, value: &str, meaning: &'static str| {
        found.push(DurabilityWarning {
            setting: format!("{name} {value}"),
            meaning,
        });
    };
    if appendonly != "yes" {
        warn(
            "appendonly",
            appendonly,
            "Redis answers before anything reaches its disk: a restart of Redis loses every \
             recall answered OK that no consumer has read (set appendonly yes, appendfsync always)",
        );
    } else if appendfsync == "everysec" {
        warn(
            "appendfsync",
            appendfsync,
            "a power cut of the Redis machine can lose the recalls of the last second, \
             answered OK (appendfsync always closes that gap)",
        );
    } else if appendfsync != "always" {
        warn(
            "appendfsync",
            appendfsync,
            "Redis leaves flushing to the operating system: a power cut of the Redis machine \
             can lose recalls answered OK (set appendfsync always)",
        );
    }
    if policy != "noeviction" {
        warn(
            "maxmemory-policy",
            policy,
            "when Redis is full it evicts keys: a claim evicted early lets a duplicate through, \
             and an evicted stream loses recalls (set maxmemory-policy noeviction)",
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(found: &[DurabilityWarning]) -> Vec<&str> {
        found
            .iter()
            .map(|warning| warning.setting.as_str())
            .collect()
    }

    #[test]
    fn each_setting_that_weakens_the_promise_is_named() {
        assert_eq!(
            settings(&warnings("yes", "always", "noeviction")),
            Vec::<&str>::new()
        );
        assert_eq!(
            settings(&warnings("no", "everysec", "noeviction")),
            ["appendonly no"]
        );
        assert_eq!(
            settings(&warnings("yes", "everysec", "allkeys-lru")),
            ["appendfsync everysec", "maxmemory-policy allkeys-lru"]
        );
        assert_eq!(
            settings(&warnings("yes", "no", "volatile-ttl")),
            ["appendfsync no", "maxmemory-policy volatile-ttl"]
        );
    }
}
