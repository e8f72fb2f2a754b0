//! [`Secret`]: a credential in memory. It prints as `[redacted]` (Debug and Display), has
//! no `Serialize` impl so it cannot reach JSON, IPC or the database by accident, and its
//! bytes are overwritten with zeros when it is dropped.

use std::fmt;

use zeroize::Zeroizing;

/// An API key or secret. Read it only with [`Secret::expose`], at the point of use
/// (signing a request, writing to the keychain).
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of `value`; its buffer is zeroed when the secret is dropped.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret's text. Do not copy it into a `String` that outlives the call.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of characters (safe to show: it says nothing usable).
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Equality without an early exit on the first differing byte, so comparing a guess to a
/// secret takes the same time wherever they differ.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::marker::PhantomData;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "Secret([redacted])", "Debug must redact");
        assert_eq!(format!("{s}"), "[redacted]", "Display must redact");
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Holder {
            key: Secret,
        }
        let h = Holder { key: s.clone() };
        assert!(
            !format!("{h:?} {h:#?}").contains("hunter2"),
            "a struct holding a secret must not print it"
        );
        assert_eq!(s.expose(), "hunter2-very-secret", "expose gives the value");
    }

    // Method resolution picks `ViaSerialize` (no auto-ref needed) only when `T: Serialize`;
    // otherwise it falls back to `ViaAny` on `&Probe<T>`. A compile-time fact, read at run time.
    struct Probe<T>(PhantomData<T>);
    trait ViaSerialize {
        fn serializable(&self) -> bool {
            true
        }
    }
    impl<T: serde::Serialize> ViaSerialize for Probe<T> {}
    trait ViaAny {
        fn serializable(&self) -> bool {
            false
        }
    }
    impl<T> ViaAny for &Probe<T> {}

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is the point of the probe
    fn secret_cannot_be_serialised() {
        assert!(
            (&Probe::<String>(PhantomData)).serializable(),
            "the probe must see String as serialisable (or it proves nothing)"
        );
        assert!(
            !(&Probe::<Secret>(PhantomData)).serializable(),
            "Secret must have no Serialize impl"
        );
    }

    #[test]
    fn equality_compares_values() {
        assert_eq!(Secret::new("abc".into()), Secret::new("abc".into()));
        assert_ne!(Secret::new("abc".into()), Secret::new("abd".into()));
        assert_ne!(Secret::new("abc".into()), Secret::new("abcd".into()));
    }
}
