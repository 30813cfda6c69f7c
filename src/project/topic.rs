//! MQTT topic names and filters (MQTT 3.1.1 §4.7, MQTT 5 §4.7).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicFilterError {
    Empty,
    TooLong,
    /// `#` must be the last level and stand alone in it.
    MultiLevelWildcard,
    /// `+` must stand alone in its level.
    SingleLevelWildcard,
    NulCharacter,
}

impl fmt::Display for TopicFilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "topic filter is empty",
            Self::TooLong => "topic filter is longer than 65535 bytes",
            Self::MultiLevelWildcard => "'#' must be the last level and stand alone in it",
            Self::SingleLevelWildcard => "'+' must occupy a whole topic level",
            Self::NulCharacter => "topic filter contains a NUL character",
        })
    }
}

impl std::error::Error for TopicFilterError {}

pub fn validate_topic_filter(filter: &str) -> Result<(), TopicFilterError> {
    if filter.is_empty() {
        return Err(TopicFilterError::Empty);
    }
    if filter.len() > 65535 {
        return Err(TopicFilterError::TooLong);
    }
    if filter.contains('\0') {
        return Err(TopicFilterError::NulCharacter);
    }
    let levels: Vec<&str> = filter.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
            return Err(TopicFilterError::MultiLevelWildcard);
        }
        if level.contains('+') && *level != "+" {
            return Err(TopicFilterError::SingleLevelWildcard);
        }
    }
    Ok(())
}

/// Whether a topic name matches a (valid) filter. Topics starting with `$` are not matched by a
/// filter starting with a wildcard (MQTT §4.7.2).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        assert!(validate_topic_filter("a/+/c").is_ok());
        assert!(validate_topic_filter("a/#").is_ok());
        assert!(validate_topic_filter("#").is_ok());
        assert_eq!(
            validate_topic_filter("a/#/c"),
            Err(TopicFilterError::MultiLevelWildcard)
        );
        assert_eq!(
            validate_topic_filter("a/b#"),
            Err(TopicFilterError::MultiLevelWildcard)
        );
        assert_eq!(
            validate_topic_filter("a/x+/c"),
            Err(TopicFilterError::SingleLevelWildcard)
        );
        assert_eq!(validate_topic_filter(""), Err(TopicFilterError::Empty));
    }

    #[test]
    fn matching() {
        assert!(topic_matches("a/+/c", "a/b/c"));
        assert!(!topic_matches("a/+/c", "a/b/d"));
        assert!(!topic_matches("a/+", "a/b/c"));
        assert!(topic_matches("a/#", "a/b/c"));
        assert!(topic_matches("a/#", "a"));
        assert!(topic_matches("#", "x/y"));
        assert!(!topic_matches("#", "$SYS/x"));
        assert!(topic_matches("a/b", "a/b"));
        assert!(!topic_matches("a/b", "a/b/c"));
        assert!(topic_matches("+/+", "a/"));
    }
}
