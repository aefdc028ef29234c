//! What clients send, and its parsing into catalogue types. Every rejection
//! names the field and the value.

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalogue::fields::{
    parse_bool, truncate_for_message, Arch, DevService, ImageType, Origin, ProjectId, ResourceCategory, ServiceType,
    SortDir, SortKey, Visibility, WorkspaceId,
};
use crate::catalogue::model::{GroupChanges, GroupQuery, ImageQuery, NameFilter, PageRequest, Tag};
use crate::catalogue::reference::Reference;
use crate::error::{Error, Result};

const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 1000;
const MAX_FILTER_NAME_CHARS: usize = 512;
const MAX_TAGS: usize = 20;
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 255;

/// Query parameters, each given at most once.
pub type QueryParams = HashMap<String, String>;

/// A tag as clients send it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[schema(as = Tag)]
pub struct TagInput {
    /// Required, 1 to 128 characters.
    #[schema(min_length = 1, max_length = 128)]
    pub key: Option<String>,
    /// At most 255 characters; missing means empty.
    #[schema(max_length = 255)]
    pub value: Option<String>,
}

/// The body of a register call (`ImageRegRequest`). Unknown fields are ignored.
/// Enumerated values are accepted in any letter case.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = ImageRegRequest)]
pub struct RegisterImageInput {
    /// The image reference `[host[:port]/]namespace/name:tag[@sha256:DIGEST]`;
    /// without a host, the service's default registry host is implied.
    #[schema(required = true, min_length = 16, max_length = 2048, example = "team/pytorch:2.1.0-cuda12")]
    pub swr_path: Option<String>,
    #[schema(value_type = Option<Arch>, default = "X86_64")]
    pub arch: Option<String>,
    #[schema(max_length = 512)]
    pub description: Option<String>,
    #[schema(value_type = Option<Origin>, default = "CUSTOMIZE")]
    pub origin: Option<String>,
    /// Default `["CPU", "GPU"]`.
    #[schema(value_type = Option<Vec<ResourceCategory>>)]
    pub resource_category: Option<Vec<String>>,
    #[schema(value_type = Option<ServiceType>, default = "UNKNOWN")]
    pub service_type: Option<String>,
    /// `NOTEBOOK` and `SSH`; default both.
    #[schema(value_type = Option<Vec<DevService>>)]
    pub services: Option<Vec<String>>,
    #[schema(value_type = Option<Visibility>, default = "PRIVATE")]
    pub visibility: Option<String>,
    /// `"0"` or 32 characters of `[0-9a-z]`.
    #[schema(default = "0", pattern = "^(0|[0-9a-z]{32})$")]
    pub workspace_id: Option<String>,
    #[schema(max_length = 128)]
    pub flavor_type: Option<String>,
    /// At most 20 tags.
    #[schema(max_items = 20)]
    pub tags: Option<Vec<TagInput>>,
    #[schema(max_length = 64)]
    pub swr_instance_id: Option<String>,
    #[schema(max_length = 3000)]
    pub read_me: Option<String>,
}

/// A register call after parsing: every field valid, defaults applied.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub reference: Reference,
    pub arch: Arch,
    pub description: String,
    pub origin: Origin,
    pub resource_categories: Vec<ResourceCategory>,
    pub service_type: ServiceType,
    pub dev_services: Vec<DevService>,
    pub visibility: Visibility,
    pub workspace_id: WorkspaceId,
    pub flavor_type: Option<String>,
    pub tags: Vec<Tag>,
    pub swr_instance_id: Option<String>,
    pub read_me: Option<String>,
}

/// The optional body of an image or group delete.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = DeleteRequest)]
pub struct DeleteInput {
    /// Also delete the manifest from the registry, when one is configured
    /// (private dedicated images only). Default `false`.
    pub is_force: Option<bool>,
}

/// The body of a group update.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = UpdateImageGroupRequest)]
pub struct UpdateGroupInput {
    #[schema(max_length = 30000)]
    pub read_me: Option<String>,
    /// At most 20 tags; replaces the group's tags.
    #[schema(max_items = 20)]
    pub tags: Option<Vec<TagInput>>,
}

fn check_max_chars(field: &str, value: &str, max: usize) -> Result<()> {
    let chars = value.chars().count();
    if chars > max {
        return Err(Error::field(field, format!("is {chars} characters long; the maximum is {max}")));
    }
    Ok(())
}

fn optional_text(field: &str, value: Option<String>, max: usize) -> Result<Option<String>> {
    if let Some(value) = &value {
        check_max_chars(field, value, max)?;
    }
    Ok(value)
}

/// Parses each value of a list field, dropping repeats.
fn parse_enum_list<T: PartialEq>(field: &str, values: Vec<String>, parse: impl Fn(&str, &str) -> Result<T>) -> Result<Vec<T>> {
    let mut parsed = Vec::with_capacity(values.len());
    for value in &values {
        let item = parse(field, value)?;
        if !parsed.contains(&item) {
            parsed.push(item);
        }
    }
    Ok(parsed)
}

/// Parses tags: at most 20, each with a non-empty key of at most 128
/// characters and a value of at most 255.
pub fn parse_tags(tags: Option<Vec<TagInput>>) -> Result<Option<Vec<Tag>>> {
    let Some(tags) = tags else { return Ok(None) };
    if tags.len() > MAX_TAGS {
        return Err(Error::field("tags", format!("has {} entries; the maximum is {MAX_TAGS}", tags.len())));
    }
    let mut parsed = Vec::with_capacity(tags.len());
    for (i, tag) in tags.into_iter().enumerate() {
        let key = tag.key.filter(|k| !k.is_empty()).ok_or_else(|| Error::field(&format!("tags[{i}].key"), "missing; every tag needs a key"))?;
        check_max_chars(&format!("tags[{i}].key"), &key, MAX_TAG_KEY_CHARS)?;
        let value = tag.value.unwrap_or_default();
        check_max_chars(&format!("tags[{i}].value"), &value, MAX_TAG_VALUE_CHARS)?;
        parsed.push(Tag { key, value });
    }
    Ok(Some(parsed))
}

/// Parses a dev service a registration may name: `NOTEBOOK` or `SSH`.
/// `AI_FLOW` exists only on built-in images.
fn parse_registrable_service(field: &str, value: &str) -> Result<DevService> {
    match DevService::parse(field, value) {
        Ok(DevService::AiFlow) => Err(Error::field(field, "'AI_FLOW' is reserved for built-in images; expected NOTEBOOK or SSH")),
        Ok(service) => Ok(service),
        Err(_) => Err(Error::field(field, format!("'{}' is not one of NOTEBOOK, SSH", truncate_for_message(value)))),
    }
}

impl NewImage {
    /// Parses a register body; references without a host get `default_host`.
    pub fn parse(input: RegisterImageInput, default_host: &str) -> Result<Self> {
        let swr_path = input
            .swr_path
            .ok_or_else(|| Error::field("swr_path", "missing; expected a reference such as team/pytorch:2.1.0"))?;
        let length = swr_path.chars().count();
        if !(16..=2048).contains(&length) {
            return Err(Error::field(
                "swr_path",
                format!("'{}' is {length} characters long; expected 16 to 2048", truncate_for_message(&swr_path)),
            ));
        }
        let reference = Reference::parse(&swr_path, default_host)?;

        let dev_services = match input.services {
            Some(values) => parse_enum_list("services", values, parse_registrable_service)?,
            None => vec![DevService::Notebook, DevService::Ssh],
        };

        Ok(NewImage {
            reference,
            arch: input.arch.map(|v| Arch::parse("arch", &v)).transpose()?.unwrap_or(Arch::X86_64),
            description: optional_text("description", input.description, 512)?.unwrap_or_default(),
            origin: input.origin.map(|v| Origin::parse("origin", &v)).transpose()?.unwrap_or(Origin::Customize),
            resource_categories: match input.resource_category {
                Some(values) => parse_enum_list("resource_category", values, ResourceCategory::parse)?,
                None => vec![ResourceCategory::Cpu, ResourceCategory::Gpu],
            },
            service_type: input
                .service_type
                .map(|v| ServiceType::parse("service_type", &v))
                .transpose()?
                .unwrap_or(ServiceType::Unknown),
            dev_services,
            visibility: input
                .visibility
                .map(|v| Visibility::parse("visibility", &v))
                .transpose()?
                .unwrap_or(Visibility::Private),
            workspace_id: input
                .workspace_id
                .map(|v| WorkspaceId::parse("workspace_id", &v))
                .transpose()?
                .unwrap_or_default(),
            flavor_type: optional_text("flavor_type", input.flavor_type, 128)?,
            tags: parse_tags(input.tags)?.unwrap_or_default(),
            swr_instance_id: optional_text("swr_instance_id", input.swr_instance_id, 64)?,
            read_me: optional_text("read_me", input.read_me, 3000)?,
        })
    }
}

impl GroupChanges {
    /// Parses a group update body: `read_me` of at most 30000 characters and at most 20 tags.
    pub fn parse(input: UpdateGroupInput) -> Result<Self> {
        Ok(GroupChanges {
            read_me: optional_text("read_me", input.read_me, 30_000)?,
            tags: parse_tags(input.tags)?,
        })
    }
}

fn parse_limit(params: &QueryParams) -> Result<PageRequest> {
    let limit = match params.get("limit") {
        Some(value) => match value.parse::<u32>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
            _ => {
                return Err(Error::field(
                    "limit",
                    format!("'{}' is not an integer from 1 to {MAX_LIMIT}", truncate_for_message(value)),
                ))
            }
        },
        None => DEFAULT_LIMIT,
    };
    let offset = match params.get("offset") {
        Some(value) => match value.parse::<i64>() {
            Ok(offset) if offset >= 0 => offset.unsigned_abs(),
            _ => {
                return Err(Error::field(
                    "offset",
                    format!("'{}' is not an integer from 0 to {}", truncate_for_message(value), i64::MAX),
                ))
            }
        },
        None => 0,
    };
    Ok(PageRequest { limit, offset })
}

/// Parses `name` and `name_fuzzy_match`: up to 512 letters, digits, `.`, `_`,
/// `-` and `/`, matched case-insensitively. An empty name is no filter.
fn parse_name_filter(params: &QueryParams) -> Result<Option<NameFilter>> {
    let fuzzy = params.get("name_fuzzy_match").map(|v| parse_bool("name_fuzzy_match", v)).transpose()?.unwrap_or(true);
    let Some(name) = params.get("name").filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    check_max_chars("name", name, MAX_FILTER_NAME_CHARS)?;
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))) {
        return Err(Error::field(
            "name",
            format!(
                "'{}' contains '{bad}'; a name holds only letters, digits, '.', '_', '-' and '/'",
                truncate_for_message(name)
            ),
        ));
    }
    let name = name.to_ascii_lowercase();
    Ok(Some(if fuzzy { NameFilter::Contains(name) } else { NameFilter::Exact(name) }))
}

/// Parses an exact-match filter of at most `max` characters from `[A-Za-z0-9._-]`.
fn parse_exact_filter(params: &QueryParams, field: &str, max: usize) -> Result<Option<String>> {
    let Some(value) = params.get(field).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    check_max_chars(field, value, max)?;
    if let Some(bad) = value.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(Error::field(
            field,
            format!("'{}' contains '{bad}'; expected letters, digits, '.', '_' and '-'", truncate_for_message(value)),
        ));
    }
    Ok(Some(value.clone()))
}

fn parse_workspace(params: &QueryParams) -> Result<WorkspaceId> {
    params
        .get("workspace_id")
        .map(|v| WorkspaceId::parse("workspace_id", v))
        .transpose()
        .map(Option::unwrap_or_default)
}

fn parse_type(params: &QueryParams) -> Result<Option<ImageType>> {
    params.get("type").filter(|v| !v.is_empty()).map(|v| ImageType::parse("type", v)).transpose()
}

impl GroupQuery {
    /// Parses the query of a group listing.
    pub fn parse(project_id: ProjectId, params: &QueryParams) -> Result<Self> {
        Ok(GroupQuery {
            project_id,
            workspace_id: parse_workspace(params)?,
            name: parse_name_filter(params)?,
            namespace: parse_exact_filter(params, "namespace", 64)?.map(|n| n.to_ascii_lowercase()),
            image_type: parse_type(params)?,
            swr_instance_id: parse_exact_filter(params, "swr_instance_id", 64)?,
            page: parse_limit(params)?,
        })
    }
}

impl ImageQuery {
    /// Parses the query of an image listing.
    pub fn parse(project_id: ProjectId, params: &QueryParams) -> Result<Self> {
        let sort_keys = match params.get("sort_key").filter(|v| !v.is_empty()) {
            Some(value) => SortKey::parse_list(value)?,
            None => Vec::new(),
        };
        let show = |field: &str| -> Result<Option<String>> {
            let value = params.get(field).filter(|v| !v.is_empty()).cloned();
            optional_text(field, value, 512)
        };
        Ok(ImageQuery {
            project_id,
            workspace_id: parse_workspace(params)?,
            name: parse_name_filter(params)?,
            namespace: parse_exact_filter(params, "namespace", 64)?.map(|n| n.to_ascii_lowercase()),
            service_type: params
                .get("service_type")
                .filter(|v| !v.is_empty())
                .map(|v| ServiceType::parse("service_type", v))
                .transpose()?,
            image_type: parse_type(params)?,
            show_name: show("show_name")?,
            show_tag: show("show_tag")?,
            sort_keys,
            sort_dir: params
                .get("sort_dir")
                .filter(|v| !v.is_empty())
                .map(|v| SortDir::parse("sort_dir", v))
                .transpose()?
                .unwrap_or(SortDir::Desc),
            page: parse_limit(params)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn project() -> ProjectId {
        ProjectId::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn group_query_defaults() {
        let query = GroupQuery::parse(project(), &params(&[])).unwrap();
        assert_eq!(query.page, PageRequest { limit: 200, offset: 0 });
        assert_eq!(query.workspace_id.as_str(), "0");
        assert!(query.name.is_none());
    }

    #[test]
    fn name_filter_is_lower_cased_and_literal() {
        let query = GroupQuery::parse(project(), &params(&[("name", "Py_Torch")])).unwrap();
        assert_eq!(query.name, Some(NameFilter::Contains("py_torch".into())));
        let exact = GroupQuery::parse(project(), &params(&[("name", "a"), ("name_fuzzy_match", "FALSE")])).unwrap();
        assert_eq!(exact.name, Some(NameFilter::Exact("a".into())));
    }

    #[test]
    fn name_filter_rejects_wildcards_and_long_names() {
        let err = GroupQuery::parse(project(), &params(&[("name", "py%")])).unwrap_err().to_string();
        assert!(err.contains("name"), "{err}");
        assert!(err.contains("py%"), "{err}");
        assert!(GroupQuery::parse(project(), &params(&[("name", &"a".repeat(513))])).is_err());
        assert!(GroupQuery::parse(project(), &params(&[("name", &"a".repeat(512))])).is_ok());
    }

    #[test]
    fn limit_and_offset_are_range_checked() {
        for bad in [("limit", "0"), ("limit", "1001"), ("limit", "ten"), ("offset", "-1"), ("offset", "1.5")] {
            let err = GroupQuery::parse(project(), &params(&[bad])).unwrap_err();
            assert!(err.to_string().starts_with(bad.0), "{err}");
        }
        let edge = GroupQuery::parse(project(), &params(&[("limit", "1000"), ("offset", "99")])).unwrap();
        assert_eq!(edge.page, PageRequest { limit: 1000, offset: 99 });
    }

    #[test]
    fn register_applies_defaults() {
        let input = RegisterImageInput { swr_path: Some("team/pytorch:2.1.0-cuda".into()), ..Default::default() };
        let image = NewImage::parse(input, "localhost:5000").unwrap();
        assert_eq!(image.arch, Arch::X86_64);
        assert_eq!(image.origin, Origin::Customize);
        assert_eq!(image.resource_categories, vec![ResourceCategory::Cpu, ResourceCategory::Gpu]);
        assert_eq!(image.dev_services, vec![DevService::Notebook, DevService::Ssh]);
        assert_eq!(image.service_type, ServiceType::Unknown);
        assert_eq!(image.visibility, Visibility::Private);
        assert_eq!(image.workspace_id.as_str(), "0");
    }

    #[test]
    fn register_rejects_short_path_and_too_many_tags() {
        let short = RegisterImageInput { swr_path: Some("a/b:c".into()), ..Default::default() };
        assert!(NewImage::parse(short, "h").unwrap_err().to_string().starts_with("swr_path"));

        let tags = (0..21).map(|i| TagInput { key: Some(format!("k{i}")), value: None }).collect();
        let many = RegisterImageInput { swr_path: Some("team/pytorch:2.1.0-cuda".into()), tags: Some(tags), ..Default::default() };
        assert!(NewImage::parse(many, "h").unwrap_err().to_string().starts_with("tags"));
    }
}
