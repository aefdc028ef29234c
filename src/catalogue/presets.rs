//! The presets catalogue: built-in images every project sees. The file is a
//! JSON array of published presets; the service ships one built from the
//! public ModelArts preset table and an operator may point it at their own.

use anyhow::Context;
use serde::Deserialize;
use uuid::Uuid;

use crate::catalogue::fields::{Arch, DevService, ImageStatus, ImageType, Origin, ResourceCategory, ServiceType, Visibility};
use crate::catalogue::model::Image;
use crate::catalogue::reference::Reference;
use crate::error::Error;

/// The presets shipped with the service.
pub const BUNDLED_PRESETS: &str = include_str!("../../presets/presets.json");

/// Namespace of the version 5 UUIDs that give each preset a stable id across restarts.
const PRESET_ID_NAMESPACE: Uuid = Uuid::from_u128(0x5e4f_1c0a_9d2b_4b7e_8a61_c3f0_2d9e_7b15);

/// One entry of a presets file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// The published name, which is also the group name.
    pub name: String,
    /// `namespace/repository:tag`, with or without registry host.
    pub swr_path: String,
    pub arch: String,
    #[serde(default)]
    pub resource_categories: Vec<String>,
    pub service_type: String,
    #[serde(default)]
    pub dev_services: Vec<String>,
    #[serde(default)]
    pub description: String,
}

/// Parses a presets file into built-in images; `source` names the file in errors.
pub fn parse_presets(json: &str, source: &str, default_host: &str, now: i64) -> anyhow::Result<Vec<Image>> {
    let presets: Vec<Preset> =
        serde_json::from_str(json).with_context(|| format!("Failed to parse the presets file {source}"))?;
    presets
        .into_iter()
        .enumerate()
        .map(|(i, preset)| {
            let name = preset.name.clone();
            to_image(preset, default_host, now).with_context(|| format!("Invalid preset #{i} ({name}) in {source}"))
        })
        .collect()
}

fn to_image(preset: Preset, default_host: &str, now: i64) -> Result<Image, Error> {
    let reference = Reference::parse(&preset.swr_path, default_host)?;
    if preset.name.is_empty() || preset.name.chars().count() > 512 {
        return Err(Error::field("name", "must be 1 to 512 characters long"));
    }
    // The id depends on what identifies the preset, not on the registry host,
    // so a changed default host updates presets in place.
    let identity = format!("{}\n{}/{}:{}", preset.name, reference.namespace, reference.name, reference.tag);

    Ok(Image {
        id: Uuid::new_v5(&PRESET_ID_NAMESPACE, identity.as_bytes()),
        project_id: None,
        workspace_id: "0".to_owned(),
        group_id: Uuid::nil(),
        image_type: ImageType::BuildIn,
        swr_path: reference.to_string(),
        namespace: reference.namespace,
        name: preset.name.to_ascii_lowercase(),
        show_name: Some(preset.name),
        show_tag: Some(reference.tag.clone()),
        tag: reference.tag,
        digest: reference.digest,
        arch: Arch::parse("arch", &preset.arch)?,
        description: preset.description,
        origin: Origin::Customize,
        resource_categories: parse_all("resource_categories", &preset.resource_categories, ResourceCategory::parse)?,
        service_type: ServiceType::parse("service_type", &preset.service_type)?,
        dev_services: parse_all("dev_services", &preset.dev_services, DevService::parse)?,
        visibility: Visibility::Public,
        status: ImageStatus::Active,
        status_message: String::new(),
        flavor_type: None,
        swr_instance_id: None,
        tags: Vec::new(),
        read_me: None,
        size: 0,
        create_at: now,
        update_at: now,
    })
}

fn parse_all<T>(field: &str, values: &[String], parse: impl Fn(&str, &str) -> crate::error::Result<T>) -> Result<Vec<T>, Error> {
    values.iter().map(|value| parse(field, value)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_presets_parse_with_stable_ids() {
        let first = parse_presets(BUNDLED_PRESETS, "bundled", "localhost:5000", 1).unwrap();
        let again = parse_presets(BUNDLED_PRESETS, "bundled", "other.host:443", 2).unwrap();
        assert!(first.len() >= 30, "only {} presets", first.len());
        assert_eq!(first.iter().map(|p| p.id).collect::<Vec<_>>(), again.iter().map(|p| p.id).collect::<Vec<_>>());
        assert!(first.iter().all(|p| p.image_type == ImageType::BuildIn && p.swr_path.starts_with("localhost:5000/")));
    }

    #[test]
    fn preset_names_with_several_tags_share_a_name() {
        let presets = parse_presets(BUNDLED_PRESETS, "bundled", "localhost:5000", 1).unwrap();
        let versions = presets.iter().filter(|p| p.name == "mindspore1.7.0-ubuntu18.04-default").count();
        assert_eq!(versions, 2);
    }

    #[test]
    fn invalid_preset_is_reported_with_its_position() {
        let json = r#"[{"name": "x", "swr_path": "NOT/valid:tag", "arch": "X86_64", "service_type": "TRAIN"}]"#;
        let err = format!("{:#}", parse_presets(json, "mine.json", "h", 1).unwrap_err());
        assert!(err.contains("#0"), "{err}");
        assert!(err.contains("mine.json"), "{err}");
    }
}
