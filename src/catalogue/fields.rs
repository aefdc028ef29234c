//! Parsed forms of the fields the API accepts: project and workspace ids and
//! the enumerations. Each constructor rejects bad input with a message that
//! names the field and the value.

use std::fmt;

use serde::{Serialize, Serializer};

use crate::error::{Error, Result};

/// A project id: 32 lower-case hexadecimal characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProjectId(String);

impl ProjectId {
    /// Parses a project id, returning the contract's `ModelArts.0210` when malformed.
    pub fn parse(value: &str) -> Result<Self> {
        let valid = value.len() == 32 && value.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(ProjectId(value.to_owned()))
        } else {
            Err(Error::InvalidProjectId(truncate_for_message(value)))
        }
    }

    /// Creates a random project id, for the first project of a new installation.
    pub fn generate() -> Self {
        ProjectId(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A workspace id: `"0"` for the default workspace, or 32 characters of `[0-9a-z]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceId(String);

impl WorkspaceId {
    /// Parses the value of the field named `field`.
    pub fn parse(field: &str, value: &str) -> Result<Self> {
        let valid = value == "0"
            || (value.len() == 32 && value.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        if valid {
            Ok(WorkspaceId(value.to_owned()))
        } else {
            Err(Error::field(
                field,
                format!("'{}' is not a workspace id; expected \"0\" or 32 characters of [0-9a-z]", truncate_for_message(value)),
            ))
        }
    }

    /// Returns the default workspace, `"0"`.
    pub fn default_workspace() -> Self {
        WorkspaceId("0".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for WorkspaceId {
    fn default() -> Self {
        Self::default_workspace()
    }
}

/// Shortens a client value to at most 64 characters so that error messages stay readable.
pub fn truncate_for_message(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    if value.chars().count() <= MAX_CHARS {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX_CHARS).collect();
        format!("{head}...")
    }
}

/// Parses a boolean query parameter: `true` or `false` in any letter case.
pub fn parse_bool(field: &str, value: &str) -> Result<bool> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(Error::field(field, format!("'{}' is not a boolean; expected true or false", truncate_for_message(value))))
    }
}

/// Declares an API enumeration: upper-case values on the wire, accepted in any
/// letter case on input, serialized as their wire form.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the wire form, upper case.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }

            /// Parses the value of the field named `field`, in any letter case.
            pub fn parse(field: &str, value: &str) -> Result<Self> {
                $(
                    if value.eq_ignore_ascii_case($wire) {
                        return Ok($name::$variant);
                    }
                )+
                let expected: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                Err(Error::field(
                    field,
                    format!("'{}' is not one of {}", truncate_for_message(value), expected.join(", ")),
                ))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::ALL.iter().map(|v| v.as_str())))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

api_enum!(
    /// The processor architecture an image is built for.
    Arch { X86_64 => "X86_64", Aarch64 => "AARCH64" }
);

api_enum!(
    /// How an image came to exist.
    Origin { Customize => "CUSTOMIZE", ImageSave => "IMAGE_SAVE" }
);

api_enum!(
    /// A kind of compute an image can run on.
    ResourceCategory { Cpu => "CPU", Gpu => "GPU", Ascend => "ASCEND" }
);

api_enum!(
    /// What the image is meant for.
    ServiceType { Common => "COMMON", Inference => "INFERENCE", Train => "TRAIN", Dev => "DEV", Unknown => "UNKNOWN" }
);

api_enum!(
    /// A way to reach a development environment started from the image.
    /// `AI_FLOW` occurs only in the published presets; registration accepts
    /// `NOTEBOOK` and `SSH`.
    DevService { Notebook => "NOTEBOOK", Ssh => "SSH", AiFlow => "AI_FLOW" }
);

api_enum!(
    /// Built-in (from the presets) or dedicated (registered by a project).
    ImageType { BuildIn => "BUILD_IN", Dedicated => "DEDICATED" }
);

api_enum!(
    /// Whether other projects may read an image by id.
    Visibility { Private => "PRIVATE", Public => "PUBLIC" }
);

api_enum!(
    /// The life-cycle state of an image.
    ImageStatus {
        Init => "INIT",
        Creating => "CREATING",
        CreateFailed => "CREATE_FAILED",
        Error => "ERROR",
        Deleted => "DELETED",
        Active => "ACTIVE",
    }
);

api_enum!(
    /// The direction of an image listing's order.
    SortDir { Asc => "ASC", Desc => "DESC" }
);

/// A field an image listing can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    CreateAt,
    UpdateAt,
    Name,
    Namespace,
    Tag,
}

impl SortKey {
    /// Parses a comma-separated `sort_key`, accepting `createTime` and
    /// `updateTime` as aliases. An unknown key is the contract's `ModelArts.6303`.
    pub fn parse_list(value: &str) -> Result<Vec<SortKey>> {
        let mut keys = Vec::new();
        for part in value.split(',') {
            let key = match part.trim() {
                "create_at" | "createTime" => SortKey::CreateAt,
                "update_at" | "updateTime" => SortKey::UpdateAt,
                "name" => SortKey::Name,
                "namespace" => SortKey::Namespace,
                "tag" => SortKey::Tag,
                _ => return Err(Error::UnsortableField(truncate_for_message(part))),
            };
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Ok(keys)
    }

    /// Returns the column this key sorts by.
    pub fn column(self) -> &'static str {
        match self {
            SortKey::CreateAt => "create_at",
            SortKey::UpdateAt => "update_at",
            SortKey::Name => "name",
            SortKey::Namespace => "namespace",
            SortKey::Tag => "tag",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_id_accepts_only_lower_case_hex() {
        assert!(ProjectId::parse("0123456789abcdef0123456789abcdef").is_ok());
        assert!(ProjectId::parse("0123456789ABCDEF0123456789abcdef").is_err());
        assert!(ProjectId::parse("0123456789abcdef0123456789abcde").is_err());
        assert!(ProjectId::parse("0123456789abcdef0123456789abcdeg").is_err());
    }

    #[test]
    fn workspace_id_accepts_zero_or_32_characters() {
        assert!(WorkspaceId::parse("workspace_id", "0").is_ok());
        assert!(WorkspaceId::parse("workspace_id", "abcdefghijklmnopqrstuvwxyz012345").is_ok());
        assert!(WorkspaceId::parse("workspace_id", "1").is_err());
        assert!(WorkspaceId::parse("workspace_id", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").is_err());
    }

    #[test]
    fn enums_parse_in_any_letter_case() {
        assert_eq!(Arch::parse("arch", "aarch64").unwrap(), Arch::Aarch64);
        assert_eq!(ImageType::parse("type", "Build_In").unwrap(), ImageType::BuildIn);
        let err = ServiceType::parse("service_type", "GAME").unwrap_err().to_string();
        assert!(err.contains("service_type"), "{err}");
        assert!(err.contains("GAME"), "{err}");
    }

    #[test]
    fn sort_key_accepts_aliases_and_rejects_unknown_fields() {
        assert_eq!(SortKey::parse_list("createTime,name").unwrap(), vec![SortKey::CreateAt, SortKey::Name]);
        assert!(matches!(SortKey::parse_list("size"), Err(Error::UnsortableField(_))));
        assert!(matches!(SortKey::parse_list(""), Err(Error::UnsortableField(_))));
    }

    #[test]
    fn booleans_accept_any_letter_case() {
        assert!(parse_bool("name_fuzzy_match", "TRUE").unwrap());
        assert!(!parse_bool("name_fuzzy_match", "False").unwrap());
        assert!(parse_bool("name_fuzzy_match", "yes").is_err());
    }
}
