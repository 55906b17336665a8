//! The Arrow schema of the `events` dataset: one definition, used by the
//! Parquet writer and by every reader.
//!
//! Columns come in three groups (documented one by one in
//! `docs/schema.md`):
//!
//! 1. **CloudTrail fields under their CloudTrail names** (`eventTime`,
//!    `userIdentity`, …), so SQL written for Athena's CloudTrail table reads
//!    naturally. Nested objects whose shape AWS documents (`userIdentity`,
//!    `sessionContext`, `tlsDetails`, `resources[]`, `addendum`) are Arrow
//!    structs and lists; free-form objects (`requestParameters`,
//!    `responseElements`, …) are kept as exact JSON text.
//! 2. **Derived forensic columns** in `snake_case` (`principal_arn`,
//!    `issued_key`, `resource_arns`, …), computed once at ingest.
//! 3. **Provenance and losslessness**: `source_file`, `source_record`,
//!    `record_hash` and `unmapped`, the JSON of everything in the record the
//!    typed columns did not capture exactly (unknown fields, values of an
//!    unexpected JSON type, explicit nulls). Typed columns plus `unmapped`
//!    rebuild the original record, equal as JSON.
//!
//! The Hive partition column `event_date` is not stored in the files: it is
//! the directory name (`event_date=YYYY-MM-DD`).
//!
//! Rules every engine relies on: timestamps are UTC microseconds, no
//! unsigned integer types, every column nullable.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Column names, one constant each, so writer and readers cannot disagree.
pub mod col {
    // CloudTrail top-level fields.
    /// `eventVersion`.
    pub const EVENT_VERSION: &str = "eventVersion";
    /// `userIdentity` (struct).
    pub const USER_IDENTITY: &str = "userIdentity";
    /// `eventTime` (timestamp, UTC microseconds).
    pub const EVENT_TIME: &str = "eventTime";
    /// `eventSource`.
    pub const EVENT_SOURCE: &str = "eventSource";
    /// `eventName`.
    pub const EVENT_NAME: &str = "eventName";
    /// `awsRegion`.
    pub const AWS_REGION: &str = "awsRegion";
    /// `sourceIPAddress`.
    pub const SOURCE_IP_ADDRESS: &str = "sourceIPAddress";
    /// `userAgent`.
    pub const USER_AGENT: &str = "userAgent";
    /// `errorCode`.
    pub const ERROR_CODE: &str = "errorCode";
    /// `errorMessage`.
    pub const ERROR_MESSAGE: &str = "errorMessage";
    /// `requestParameters` (JSON text).
    pub const REQUEST_PARAMETERS: &str = "requestParameters";
    /// `responseElements` (JSON text).
    pub const RESPONSE_ELEMENTS: &str = "responseElements";
    /// `additionalEventData` (JSON text).
    pub const ADDITIONAL_EVENT_DATA: &str = "additionalEventData";
    /// `requestID`.
    pub const REQUEST_ID: &str = "requestID";
    /// `eventID`.
    pub const EVENT_ID: &str = "eventID";
    /// `eventType`.
    pub const EVENT_TYPE: &str = "eventType";
    /// `apiVersion`.
    pub const API_VERSION: &str = "apiVersion";
    /// `managementEvent` (boolean).
    pub const MANAGEMENT_EVENT: &str = "managementEvent";
    /// `readOnly` (boolean).
    pub const READ_ONLY: &str = "readOnly";
    /// `resources` (list of struct `ARN`, `accountId`, `type`).
    pub const RESOURCES: &str = "resources";
    /// `recipientAccountId`.
    pub const RECIPIENT_ACCOUNT_ID: &str = "recipientAccountId";
    /// `serviceEventDetails` (JSON text).
    pub const SERVICE_EVENT_DETAILS: &str = "serviceEventDetails";
    /// `sharedEventID`.
    pub const SHARED_EVENT_ID: &str = "sharedEventID";
    /// `vpcEndpointId`.
    pub const VPC_ENDPOINT_ID: &str = "vpcEndpointId";
    /// `vpcEndpointAccountId`.
    pub const VPC_ENDPOINT_ACCOUNT_ID: &str = "vpcEndpointAccountId";
    /// `eventCategory`.
    pub const EVENT_CATEGORY: &str = "eventCategory";
    /// `addendum` (struct).
    pub const ADDENDUM: &str = "addendum";
    /// `sessionCredentialFromConsole` (CloudTrail writes the string `"true"`).
    pub const SESSION_CREDENTIAL_FROM_CONSOLE: &str = "sessionCredentialFromConsole";
    /// `edgeDeviceDetails` (JSON text).
    pub const EDGE_DEVICE_DETAILS: &str = "edgeDeviceDetails";
    /// `tlsDetails` (struct).
    pub const TLS_DETAILS: &str = "tlsDetails";
    /// `insightDetails` (JSON text).
    pub const INSIGHT_DETAILS: &str = "insightDetails";

    // Derived forensic columns.
    /// The acting principal: `userIdentity.arn`, else a synthesised ARN
    /// (`arn:aws:iam::ACCOUNT:root`, the service name for `AWSService`, …).
    pub const PRINCIPAL_ARN: &str = "principal_arn";
    /// `userIdentity.type`, copied flat for cheap filtering.
    pub const PRINCIPAL_TYPE: &str = "principal_type";
    /// The key the call was signed with (`userIdentity.accessKeyId`).
    pub const ACCESS_KEY_ID: &str = "access_key_id";
    /// For role sessions, the role (`sessionContext.sessionIssuer.arn`).
    pub const ROLE_ARN: &str = "role_arn";
    /// For role sessions, the session name (last part of the session ARN).
    pub const SESSION_NAME: &str = "session_name";
    /// Whether the caller authenticated with MFA (session attribute, or
    /// `additionalEventData.MFAUsed` for console sign-ins).
    pub const MFA: &str = "mfa";
    /// Credential-issuing calls: the role (or user) the credentials are for.
    pub const TARGET_ROLE_ARN: &str = "target_role_arn";
    /// Credential-issuing calls: the requested session name.
    pub const TARGET_SESSION_NAME: &str = "target_session_name";
    /// Credential-issuing calls: `sourceIdentity` requested or carried.
    pub const SOURCE_IDENTITY: &str = "source_identity";
    /// Credential-issuing calls: the access key id issued.
    pub const ISSUED_KEY: &str = "issued_key";
    /// Credential-issuing calls: the session ARN issued.
    pub const ISSUED_SESSION_ARN: &str = "issued_session_arn";
    /// Credential-issuing calls: expiration of the issued credentials.
    pub const EXPIRATION: &str = "expiration";
    /// Credential-issuing calls: the expiration exactly as CloudTrail wrote it.
    pub const EXPIRATION_RAW: &str = "expiration_raw";
    /// Every resource the event touched, normalised to ARNs where possible.
    pub const RESOURCE_ARNS: &str = "resource_arns";

    // Provenance and losslessness.
    /// The input file the record came from (path as given to ingest).
    pub const SOURCE_FILE: &str = "source_file";
    /// The record's position (0-based) in its input file.
    pub const SOURCE_RECORD: &str = "source_record";
    /// Order-independent 64-bit hash of the whole record, for dedup.
    pub const RECORD_HASH: &str = "record_hash";
    /// JSON object of everything the typed columns did not capture exactly.
    pub const UNMAPPED: &str = "unmapped";

    /// The Hive partition column (directory name, not stored in files).
    pub const EVENT_DATE: &str = "event_date";
}

/// Sub-field names of `userIdentity`, in schema order.
pub mod user_identity {
    /// String leaves directly under `userIdentity`.
    pub const STRINGS: [&str; 9] = [
        "type",
        "principalId",
        "arn",
        "accountId",
        "accessKeyId",
        "userName",
        "invokedBy",
        "identityProvider",
        "credentialId",
    ];
    /// `userIdentity.sessionContext`.
    pub const SESSION_CONTEXT: &str = "sessionContext";
    /// `userIdentity.onBehalfOf` (Identity Center users).
    pub const ON_BEHALF_OF: &str = "onBehalfOf";
    /// `userIdentity.inScopeOf` (JSON text).
    pub const IN_SCOPE_OF: &str = "inScopeOf";
    /// String leaves of `onBehalfOf`.
    pub const ON_BEHALF_OF_STRINGS: [&str; 2] = ["userId", "identityStoreArn"];
    /// `sessionContext.attributes` string leaves.
    pub const ATTRIBUTES_STRINGS: [&str; 2] = ["creationDate", "mfaAuthenticated"];
    /// `sessionContext.sessionIssuer` string leaves.
    pub const SESSION_ISSUER_STRINGS: [&str; 5] =
        ["type", "principalId", "arn", "accountId", "userName"];
    /// `sessionContext` string leaves (besides the two structs).
    pub const SESSION_CONTEXT_STRINGS: [&str; 4] = [
        "sourceIdentity",
        "ec2RoleDelivery",
        "ec2IssuedInVPC",
        "assumedRoot",
    ];
    /// `sessionContext` fields kept as JSON text.
    pub const SESSION_CONTEXT_JSON: [&str; 1] = ["webIdFederationData"];
}

/// Sub-field names of `tlsDetails`.
pub const TLS_DETAILS_STRINGS: [&str; 3] =
    ["tlsVersion", "cipherSuite", "clientProvidedHostHeader"];
/// Sub-field names of `addendum`.
pub const ADDENDUM_STRINGS: [&str; 4] = [
    "reason",
    "updatedFields",
    "originalRequestID",
    "originalEventID",
];
/// Sub-field names of each `resources[]` element.
pub const RESOURCE_STRINGS: [&str; 3] = ["ARN", "accountId", "type"];

/// Top-level CloudTrail string fields stored as plain strings, in schema order
/// after `userIdentity`/`eventTime`.
pub const TOP_STRINGS_A: [&str; 7] = [
    col::EVENT_SOURCE,
    col::EVENT_NAME,
    col::AWS_REGION,
    col::SOURCE_IP_ADDRESS,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::ERROR_MESSAGE,
];
/// Top-level free-form fields kept as exact JSON text (any JSON type).
pub const TOP_JSON: [&str; 6] = [
    col::REQUEST_PARAMETERS,
    col::RESPONSE_ELEMENTS,
    col::ADDITIONAL_EVENT_DATA,
    col::SERVICE_EVENT_DETAILS,
    col::EDGE_DEVICE_DETAILS,
    col::INSIGHT_DETAILS,
];
/// Top-level string fields after the free-form group.
pub const TOP_STRINGS_B: [&str; 10] = [
    col::REQUEST_ID,
    col::EVENT_ID,
    col::EVENT_TYPE,
    col::API_VERSION,
    col::RECIPIENT_ACCOUNT_ID,
    col::SHARED_EVENT_ID,
    col::VPC_ENDPOINT_ID,
    col::VPC_ENDPOINT_ACCOUNT_ID,
    col::EVENT_CATEGORY,
    col::SESSION_CREDENTIAL_FROM_CONSOLE,
];
/// Top-level boolean fields.
pub const TOP_BOOLS: [&str; 2] = [col::MANAGEMENT_EVENT, col::READ_ONLY];

/// Every top-level CloudTrail key the typed columns know. Anything else goes
/// to `unmapped`.
pub fn known_top_level_keys() -> impl Iterator<Item = &'static str> {
    [col::EVENT_VERSION, col::USER_IDENTITY, col::EVENT_TIME]
        .into_iter()
        .chain(TOP_STRINGS_A)
        .chain(TOP_JSON)
        .chain(TOP_STRINGS_B)
        .chain(TOP_BOOLS)
        .chain([col::RESOURCES, col::ADDENDUM, col::TLS_DETAILS])
}

/// Columns the index reads back row by row to answer a query (the rows of
/// `timeline`, `touched`, `who-assumed`, `chain`, `sessions`). The writer
/// gives them small data pages, so a point read decompresses a few KiB a
/// column instead of a 20,000-row page; every other column keeps large
/// pages, which are cheaper to write.
pub const POINT_READ_COLUMNS: &[&str] = &[
    col::EVENT_TIME,
    col::EVENT_ID,
    col::EVENT_SOURCE,
    col::EVENT_NAME,
    col::AWS_REGION,
    col::RECIPIENT_ACCOUNT_ID,
    col::SOURCE_IP_ADDRESS,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::PRINCIPAL_ARN,
    col::PRINCIPAL_TYPE,
    col::ACCESS_KEY_ID,
    col::ROLE_ARN,
    col::SESSION_NAME,
    col::MFA,
    col::TARGET_ROLE_ARN,
    col::TARGET_SESSION_NAME,
    col::SOURCE_IDENTITY,
    col::ISSUED_KEY,
    col::ISSUED_SESSION_ARN,
    col::EXPIRATION,
    col::EXPIRATION_RAW,
    col::RESOURCE_ARNS,
];

/// String columns written without a Parquet dictionary; every other string
/// column gets one. Two kinds:
///
/// * values unique to an event (`eventID`, `requestID`, `sharedEventID`,
///   and `responseElements`, whose non-null values carry fresh credentials,
///   ids and timestamps): a dictionary only costs a hash per value before
///   parquet falls back to plain;
/// * point-read columns ([`POINT_READ_COLUMNS`]) with many distinct values:
///   a query reading one row would first have to read and decompress the
///   column chunk's dictionary page, up to 1 MiB.
///
/// Everything else repeats heavily in real archives (ARNs, account ids,
/// principal ids, TLS details, `requestParameters`, `unmapped`, whose usual
/// value is `{"responseElements":null}`): dictionaries cut the bytes zstd
/// has to compress by ~40% and the files by ~10%.
pub const PLAIN_COLUMNS: &[&str] = &[
    col::EVENT_ID,
    col::REQUEST_ID,
    col::SHARED_EVENT_ID,
    col::RESPONSE_ELEMENTS,
    col::TARGET_SESSION_NAME,
    col::SOURCE_IDENTITY,
    col::ISSUED_KEY,
    col::ISSUED_SESSION_ARN,
    col::EXPIRATION_RAW,
    col::RESOURCE_ARNS,
];

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn strings(names: &[&str]) -> Vec<Field> {
    names.iter().map(|n| utf8(n)).collect()
}

fn strukt(name: &str, fields: Vec<Field>) -> Field {
    Field::new(name, DataType::Struct(Fields::from(fields)), true)
}

/// The UTC-microsecond timestamp type every time column uses.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// `sessionContext` struct field.
pub fn session_context_field() -> Field {
    use user_identity as ui;
    let mut f = vec![
        strukt("attributes", strings(&ui::ATTRIBUTES_STRINGS)),
        strukt("sessionIssuer", strings(&ui::SESSION_ISSUER_STRINGS)),
    ];
    f.extend(strings(&ui::SESSION_CONTEXT_JSON));
    f.extend(strings(&ui::SESSION_CONTEXT_STRINGS));
    strukt(ui::SESSION_CONTEXT, f)
}

/// `userIdentity` struct field.
pub fn user_identity_field() -> Field {
    use user_identity as ui;
    let mut f = strings(&ui::STRINGS);
    f.push(session_context_field());
    f.push(strukt(ui::ON_BEHALF_OF, strings(&ui::ON_BEHALF_OF_STRINGS)));
    f.push(utf8(ui::IN_SCOPE_OF));
    strukt(col::USER_IDENTITY, f)
}

/// The element type of `resources`.
pub fn resource_item_field() -> Field {
    Field::new(
        "item",
        DataType::Struct(Fields::from(strings(&RESOURCE_STRINGS))),
        true,
    )
}

fn build_schema() -> Schema {
    let mut f = vec![
        utf8(col::EVENT_VERSION),
        user_identity_field(),
        Field::new(col::EVENT_TIME, timestamp_type(), true),
    ];
    f.extend(strings(&TOP_STRINGS_A));
    f.extend(strings(&TOP_JSON));
    f.extend(strings(&TOP_STRINGS_B));
    f.extend(
        TOP_BOOLS
            .iter()
            .map(|n| Field::new(*n, DataType::Boolean, true)),
    );
    f.push(Field::new(
        col::RESOURCES,
        DataType::List(Arc::new(resource_item_field())),
        true,
    ));
    f.push(strukt(col::ADDENDUM, strings(&ADDENDUM_STRINGS)));
    f.push(strukt(col::TLS_DETAILS, strings(&TLS_DETAILS_STRINGS)));
    // Derived.
    f.extend(strings(&[
        col::PRINCIPAL_ARN,
        col::PRINCIPAL_TYPE,
        col::ACCESS_KEY_ID,
        col::ROLE_ARN,
        col::SESSION_NAME,
    ]));
    f.push(Field::new(col::MFA, DataType::Boolean, true));
    f.extend(strings(&[
        col::TARGET_ROLE_ARN,
        col::TARGET_SESSION_NAME,
        col::SOURCE_IDENTITY,
        col::ISSUED_KEY,
        col::ISSUED_SESSION_ARN,
    ]));
    f.push(Field::new(col::EXPIRATION, timestamp_type(), true));
    f.push(utf8(col::EXPIRATION_RAW));
    f.push(Field::new(
        col::RESOURCE_ARNS,
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    ));
    // Provenance.
    f.push(utf8(col::SOURCE_FILE));
    f.push(Field::new(col::SOURCE_RECORD, DataType::Int64, true));
    f.push(Field::new(col::RECORD_HASH, DataType::Int64, true));
    f.push(utf8(col::UNMAPPED));
    Schema::new(f)
}

/// The schema of every Parquet file under `events/`.
pub fn event_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(|| Arc::new(build_schema())).clone()
}

/// Version of the dataset layout; bumped when a column changes meaning.
pub const DATASET_FORMAT_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_are_unique() {
        let s = event_schema();
        let mut names: Vec<_> = s.fields().iter().map(|f| f.name().clone()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn every_known_key_is_a_column() {
        let s = event_schema();
        for k in known_top_level_keys() {
            assert!(s.field_with_name(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn no_unsigned_types() {
        fn check(dt: &DataType) {
            assert!(!dt.is_unsigned_integer(), "{dt}");
            match dt {
                DataType::Struct(fs) => fs.iter().for_each(|f| check(f.data_type())),
                DataType::List(f) => check(f.data_type()),
                _ => {}
            }
        }
        event_schema()
            .fields()
            .iter()
            .for_each(|f| check(f.data_type()));
    }

    #[test]
    fn plain_and_point_read_columns_exist() {
        let s = event_schema();
        for c in PLAIN_COLUMNS.iter().chain(POINT_READ_COLUMNS) {
            assert!(s.field_with_name(c).is_ok(), "{c}");
        }
    }
}
