//! Printing API responses: aligned tables for people, the API's JSON for programs.

use serde_json::Value;
use time::macros::format_description;
use time::OffsetDateTime;

/// The columns of an image listing: header and response field.
pub const IMAGE_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("NAMESPACE", "namespace"),
    ("NAME", "name"),
    ("TAG", "tag"),
    ("TYPE", "type"),
    ("STATUS", "status"),
    ("VISIBILITY", "visibility"),
    ("ARCH", "arch"),
    ("SIZE", "size"),
    ("UPDATED", "update_at"),
];

/// The columns of a group listing: header and response field.
pub const GROUP_COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("NAMESPACE", "namespace"),
    ("NAME", "name"),
    ("VERSIONS", "version_count"),
    ("UPDATED", "update_at"),
    ("DESCRIPTION", "description"),
];

/// Formats one field for a table cell: times as UTC dates, lists joined
/// with commas, tags as `key=value`, absent values as `-`.
pub fn cell(field: &str, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::Number(ms)) if field.ends_with("_at") => ms.as_i64().map_or_else(|| ms.to_string(), format_millis),
        Some(Value::String(text)) if text.is_empty() => "-".to_owned(),
        Some(Value::String(text)) => text.replace(['\n', '\t'], " "),
        Some(Value::Array(items)) if items.is_empty() => "-".to_owned(),
        Some(Value::Array(items)) => items.iter().map(list_item).collect::<Vec<_>>().join(","),
        Some(other) => other.to_string(),
    }
}

fn list_item(item: &Value) -> String {
    match (item.get("key"), item.get("value")) {
        (Some(Value::String(key)), Some(Value::String(value))) => format!("{key}={value}"),
        _ => match item {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        },
    }
}

fn format_millis(ms: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|time| time.format(format).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Renders rows under a header, each column as wide as its widest cell,
/// separated by two spaces. The last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    let header_row: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(width - cell.chars().count() + 2));
            }
        }
        out.push('\n');
    }
    out
}

/// Renders a listing's items in the given columns.
pub fn listing_table(items: &[Value], columns: &[(&str, &str)]) -> String {
    let header: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|(_, field)| cell(field, item.get(*field))).collect())
        .collect();
    table(&header, &rows)
}

/// Renders one object as a FIELD / VALUE table, in the order of its fields.
pub fn object_table(object: &Value) -> String {
    let rows: Vec<Vec<String>> = match object.as_object() {
        Some(fields) => fields.iter().map(|(name, value)| vec![name.clone(), cell(name, Some(value))]).collect(),
        None => vec![vec!["value".to_owned(), object.to_string()]],
    };
    table(&["FIELD", "VALUE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_aligns_columns_by_widest_cell() {
        let rendered = table(&["ID", "NAME"], &[vec!["1".into(), "pytorch".into()], vec!["22".into(), "tf".into()]]);
        assert_eq!(rendered, "ID  NAME\n1   pytorch\n22  tf\n");
    }

    #[test]
    fn cell_formats_times_lists_and_tags() {
        assert_eq!(cell("update_at", Some(&json!(1_733_340_000_000_i64))), "2024-12-04 19:20:00Z");
        assert_eq!(cell("dev_services", Some(&json!(["NOTEBOOK", "SSH"]))), "NOTEBOOK,SSH");
        assert_eq!(cell("tags", Some(&json!([{"key": "team", "value": "ml"}]))), "team=ml");
        assert_eq!(cell("description", Some(&json!(""))), "-");
        assert_eq!(cell("flavor_type", None), "-");
    }
}
