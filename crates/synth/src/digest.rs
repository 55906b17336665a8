//! CloudTrail digest files: writing them as AWS does, and checking them by
//! AWS's validation rules.
//!
//! A digest covers one trail, account and region for one hour and lists
//! every log file delivered in that hour with the hex SHA-256 of its
//! *uncompressed* bytes. Digests chain: `previousDigestHashValue` is the
//! hex SHA-256 of the previous digest's uncompressed bytes and
//! `previousDigestSignature` its signature; the first digest of a chain
//! has `null` there. See `docs/formats/digest.md`.
//!
//! Synthetic digests are not RSA-signed. Their `digestPublicKeyFingerprint`
//! is [`UNSIGNED_FINGERPRINT`] (no AWS key has it) and their "signature"
//! is the hex SHA-256 of the AWS signing string, stored where AWS keeps the
//! real one (S3 object metadata), exported as a sidecar JSON file under
//! `s3-metadata/` with `signature-algorithm` [`UNSIGNED_ALGORITHM`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::json::JsonWriter;
use crate::rng::to_hex;
use crate::time::{compact_second, date_path, event_time};

/// Fingerprint written into unsigned synthetic digests.
pub const UNSIGNED_FINGERPRINT: &str = "00000000000000000000000000000000";
/// `signature-algorithm` metadata of unsigned synthetic digests.
pub const UNSIGNED_ALGORITHM: &str = "UNSIGNED-SHA256";
/// Folder (under the archive root) of the exported S3 object metadata.
pub const METADATA_DIR: &str = "s3-metadata";

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// One log file as a digest lists it.
#[derive(Debug, Clone)]
pub struct LogFileEntry {
    /// Object key.
    pub key: String,
    /// Hex SHA-256 of the uncompressed content.
    pub hash: String,
    /// Newest `eventTime` in the file.
    pub newest_us: i64,
    /// Oldest `eventTime` in the file.
    pub oldest_us: i64,
}

/// The previous link of a chain.
#[derive(Debug, Clone)]
pub struct PrevDigest {
    /// Its object key.
    pub key: String,
    /// Hex SHA-256 of its uncompressed bytes.
    pub hash: String,
    /// Its signature.
    pub signature: String,
}

/// Where a digest goes.
#[derive(Debug, Clone)]
pub struct DigestTarget<'a> {
    /// `AWSLogs/` or `AWSLogs/o-ID/`.
    pub prefix: &'a str,
    /// Account id.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Trail name.
    pub trail: &'a str,
    /// Trail home region.
    pub home_region: &'a str,
    /// Bucket.
    pub bucket: &'a str,
}

/// A written digest: key, uncompressed bytes and the chain link it makes.
#[derive(Debug, Clone)]
pub struct BuiltDigest {
    /// Object key.
    pub key: String,
    /// Uncompressed JSON.
    pub bytes: Vec<u8>,
    /// What the next digest points back to.
    pub link: PrevDigest,
    /// The AWS data signing string.
    pub signing_string: String,
}

/// The object key of the digest ending at `end_us`.
pub fn digest_key(t: &DigestTarget<'_>, end_us: i64) -> String {
    format!(
        "{}{}/CloudTrail-Digest/{}/{}/{}_CloudTrail-Digest_{}_{}_{}_{}.json.gz",
        t.prefix,
        t.account,
        t.region,
        date_path(end_us),
        t.account,
        t.region,
        t.trail,
        t.home_region,
        compact_second(end_us)
    )
}

/// The AWS data signing string of a digest.
pub fn signing_string(
    end_time: &str,
    bucket: &str,
    key: &str,
    digest_hash: &str,
    prev_signature: Option<&str>,
) -> String {
    format!(
        "{end_time}\n{bucket}/{key}\n{digest_hash}\n{}",
        prev_signature.unwrap_or("null")
    )
}

/// Builds the digest for `[start_us, end_us)`.
pub fn build(
    t: &DigestTarget<'_>,
    start_us: i64,
    end_us: i64,
    files: &[LogFileEntry],
    prev: Option<&PrevDigest>,
) -> BuiltDigest {
    let key = digest_key(t, end_us);
    let end = event_time(end_us);
    let mut bytes = Vec::with_capacity(1024 + files.len() * 400);
    let mut w = JsonWriter::new(&mut bytes);
    w.begin_object();
    w.field("awsAccountId", t.account);
    w.field("digestStartTime", &event_time(start_us));
    w.field("digestEndTime", &end);
    w.field("digestS3Bucket", t.bucket);
    w.field("digestS3Object", &key);
    w.field("digestPublicKeyFingerprint", UNSIGNED_FINGERPRINT);
    w.field("digestSignatureAlgorithm", "SHA256withRSA");
    let newest = files.iter().map(|f| f.newest_us).max();
    let oldest = files.iter().map(|f| f.oldest_us).min();
    w.key("newestEventTime");
    w.opt_string(newest.map(event_time).as_deref());
    w.key("oldestEventTime");
    w.opt_string(oldest.map(event_time).as_deref());
    w.key("previousDigestS3Bucket");
    w.opt_string(prev.map(|_| t.bucket));
    w.key("previousDigestS3Object");
    w.opt_string(prev.map(|p| p.key.as_str()));
    w.key("previousDigestHashValue");
    w.opt_string(prev.map(|p| p.hash.as_str()));
    w.key("previousDigestHashAlgorithm");
    w.opt_string(prev.map(|_| "SHA-256"));
    w.key("previousDigestSignature");
    w.opt_string(prev.map(|p| p.signature.as_str()));
    w.array_field("logFiles");
    for f in files {
        w.begin_object();
        w.field("s3Bucket", t.bucket);
        w.field("s3Object", &f.key);
        w.field("hashValue", &f.hash);
        w.field("hashAlgorithm", "SHA-256");
        w.field("newestEventTime", &event_time(f.newest_us));
        w.field("oldestEventTime", &event_time(f.oldest_us));
        w.end_object();
    }
    w.end_array();
    w.end_object();
    let hash = sha256_hex(&bytes);
    let signing = signing_string(
        &end,
        t.bucket,
        &key,
        &hash,
        prev.map(|p| p.signature.as_str()),
    );
    let signature = sha256_hex(signing.as_bytes());
    BuiltDigest {
        link: PrevDigest {
            key: key.clone(),
            hash,
            signature,
        },
        key,
        bytes,
        signing_string: signing,
    }
}

/// The exported S3 metadata of a synthetic digest (the sidecar's content).
pub fn metadata_json(d: &BuiltDigest) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    let mut w = JsonWriter::new(&mut out);
    w.begin_object();
    w.field("signature", &d.link.signature);
    w.field("signature-algorithm", UNSIGNED_ALGORITHM);
    w.field("x-backtrail-signing-string", &d.signing_string);
    w.end_object();
    out.push(b'\n');
    out
}

/// The outcome of [`verify_digests`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct DigestReport {
    /// Digest files read.
    pub digests: usize,
    /// Log-file entries whose hash was checked.
    pub log_files_checked: usize,
    /// Digests that start a chain (all `previous*` null).
    pub chain_starts: usize,
    /// Digests whose synthetic signature was recomputed and matched.
    pub signatures_checked: usize,
    /// Digests with no exported signature (the newest of each chain in
    /// real exports, or archives without metadata).
    pub unsigned_without_metadata: usize,
    /// Log files on disk that no digest lists.
    pub unlisted_log_files: Vec<String>,
    /// Every failed check, one line each.
    pub problems: Vec<String>,
}

impl DigestReport {
    /// No problem and no unlisted file.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.unlisted_log_files.is_empty()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let rd = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let p = entry.path();
        let ft = entry.file_type().map_err(|e| Error::io(&p, e))?;
        if ft.is_dir() {
            walk(&p, out)?;
        } else if p.to_string_lossy().ends_with(".json.gz") {
            out.push(p);
        }
    }
    Ok(())
}

/// The uncompressed bytes of a gzip file.
pub fn gunzip_file(path: &Path) -> Result<Vec<u8>, Error> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f))
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, e))?;
    Ok(out)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The fields of a digest the checks read (the rest is not kept, so a
/// long archive's digests fit in memory).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    digest_end_time: Option<String>,
    #[serde(rename = "digestS3Bucket")]
    digest_s3_bucket: Option<String>,
    #[serde(rename = "digestS3Object")]
    digest_s3_object: Option<String>,
    #[serde(rename = "previousDigestS3Bucket")]
    previous_digest_s3_bucket: Option<String>,
    #[serde(rename = "previousDigestS3Object")]
    previous_digest_s3_object: Option<String>,
    previous_digest_hash_value: Option<String>,
    previous_digest_signature: Option<String>,
    #[serde(default)]
    log_files: Vec<Listed>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    #[serde(rename = "s3Object")]
    s3_object: String,
    hash_value: String,
}

struct Parsed {
    key: String,
    hash: String,
    body: Body,
}

/// Checks every digest under `archive/AWSLogs` by the AWS rules: each
/// listed log file's uncompressed SHA-256, each digest's own location, the
/// chain (previous digest's hash and signature), the synthetic signature
/// where metadata was exported, and that every log file is listed.
pub fn verify_digests(archive: &Path) -> Result<DigestReport, Error> {
    let mut files = Vec::new();
    walk(&archive.join("AWSLogs"), &mut files)?;
    files.sort();
    let (digest_paths, log_paths): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|p| rel(archive, p).contains("/CloudTrail-Digest/"));
    let parsed: Vec<Result<Parsed, Error>> = digest_paths
        .par_iter()
        .map(|p| {
            let bytes = gunzip_file(p)?;
            let body = serde_json::from_slice(&bytes).map_err(|e| Error::Json {
                path: p.clone(),
                source: e,
            })?;
            Ok(Parsed {
                key: rel(archive, p),
                hash: sha256_hex(&bytes),
                body,
            })
        })
        .collect();
    let parsed: Vec<Parsed> = parsed.into_iter().collect::<Result<_, _>>()?;
    let mut report = DigestReport {
        digests: parsed.len(),
        ..DigestReport::default()
    };
    let signatures: BTreeMap<&str, Option<String>> = parsed
        .iter()
        .map(|d| (d.key.as_str(), read_signature(archive, &d.key)))
        .collect();
    let by_key: BTreeMap<&str, &Parsed> = parsed.iter().map(|d| (d.key.as_str(), d)).collect();
    let mut listed = BTreeSet::new();
    let mut to_hash = Vec::new();
    for d in &parsed {
        let b = &d.body;
        if b.digest_s3_object.as_deref() != Some(d.key.as_str()) {
            report.problems.push(format!(
                "{}: digestS3Object {:?} is not where the file is",
                d.key, b.digest_s3_object
            ));
        }
        match b.previous_digest_s3_object.as_deref() {
            None => {
                report.chain_starts += 1;
                if b.previous_digest_s3_bucket.is_some()
                    || b.previous_digest_hash_value.is_some()
                    || b.previous_digest_signature.is_some()
                {
                    report.problems.push(format!(
                        "{}: chain start with non-null previous* fields",
                        d.key
                    ));
                }
            }
            Some(prev) => match by_key.get(prev) {
                None => report
                    .problems
                    .push(format!("{}: previous digest {prev} is missing", d.key)),
                Some(p) => {
                    if b.previous_digest_hash_value.as_deref() != Some(p.hash.as_str()) {
                        report.problems.push(format!(
                            "{}: previousDigestHashValue does not match {prev}",
                            d.key
                        ));
                    }
                    if let Some(Some(sig)) = signatures.get(prev)
                        && b.previous_digest_signature.as_deref() != Some(sig.as_str())
                    {
                        report.problems.push(format!(
                            "{}: previousDigestSignature does not match {prev}'s signature",
                            d.key
                        ));
                    }
                }
            },
        }
        match signatures.get(d.key.as_str()) {
            Some(Some(sig)) => {
                let signing = signing_string(
                    b.digest_end_time.as_deref().unwrap_or(""),
                    b.digest_s3_bucket.as_deref().unwrap_or(""),
                    b.digest_s3_object.as_deref().unwrap_or(""),
                    &d.hash,
                    b.previous_digest_signature.as_deref(),
                );
                if sha256_hex(signing.as_bytes()) == *sig {
                    report.signatures_checked += 1;
                } else {
                    report.problems.push(format!(
                        "{}: signature does not match the signing string",
                        d.key
                    ));
                }
            }
            _ => report.unsigned_without_metadata += 1,
        }
        for f in &b.log_files {
            let (key, hash) = (f.s3_object.clone(), f.hash_value.clone());
            if !listed.insert(key.clone()) {
                report
                    .problems
                    .push(format!("{key}: listed by more than one digest"));
            }
            to_hash.push((d.key.clone(), key, hash));
        }
    }
    let checks: Vec<Option<String>> = to_hash
        .par_iter()
        .map(
            |(digest, key, want)| match gunzip_file(&archive.join(key)) {
                Ok(bytes) if sha256_hex(&bytes) == *want => None,
                Ok(_) => Some(format!("{key}: hash differs from {digest}")),
                Err(e) => Some(format!("{key}: listed by {digest} but unreadable: {e}")),
            },
        )
        .collect();
    report.log_files_checked = to_hash.len();
    report.problems.extend(checks.into_iter().flatten());
    report.unlisted_log_files = log_paths
        .iter()
        .map(|p| rel(archive, p))
        .filter(|k| k.contains("/CloudTrail/") && !listed.contains(k))
        .collect();
    Ok(report)
}

fn read_signature(archive: &Path, key: &str) -> Option<String> {
    let p = archive.join(METADATA_DIR).join(format!("{key}.json"));
    let bytes = std::fs::read(p).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("signature")
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> DigestTarget<'static> {
        DigestTarget {
            prefix: "AWSLogs/",
            account: "111122223333",
            region: "us-east-2",
            trail: "example-trail-name",
            home_region: "us-east-2",
            bucket: "example-bucket-name",
        }
    }

    #[test]
    fn reads_the_fields_of_aws_examples() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/awsdocs/cloudtrail-user-guide/extracted");
        if !dir.is_dir() {
            println!("SKIP: corpus not found at {}", dir.display());
            return;
        }
        let full: Body = serde_json::from_slice(
            &std::fs::read(dir.join("digest-file-structure.sample.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(full.log_files.len(), 1);
        assert_eq!(
            full.log_files[0].hash_value,
            "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6"
        );
        assert!(
            full.previous_digest_s3_object
                .as_deref()
                .unwrap()
                .ends_with("_20150817T140131Z.json.gz")
        );
        assert_eq!(
            full.digest_end_time.as_deref(),
            Some("2015-08-17T15:01:31Z")
        );
        let empty: Body = serde_json::from_slice(
            &std::fs::read(dir.join("digest-file-structure.empty-digest.sample.json")).unwrap(),
        )
        .unwrap();
        assert!(empty.log_files.is_empty() && empty.previous_digest_signature.is_some());
        // Our own digests use the same key order and names as AWS's example.
        let ours = build(&target(), 0, crate::time::HOUR, &[], None);
        let ours: serde_json::Value = serde_json::from_slice(&ours.bytes).unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join("digest-file-structure.empty-digest.sample.json")).unwrap(),
        )
        .unwrap();
        let keys =
            |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&ours), keys(&theirs));
    }

    #[test]
    fn key_matches_aws_example() {
        let end = crate::time::parse("2015-08-20T18:01:31Z").unwrap();
        assert_eq!(
            digest_key(&target(), end),
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/20/111122223333_CloudTrail-Digest_us-east-2_example-trail-name_us-east-2_20150820T180131Z.json.gz"
        );
    }

    #[test]
    fn chain_links_and_nulls() {
        let t0 = crate::time::parse("2015-08-20T17:01:31Z").unwrap();
        let h = crate::time::HOUR;
        let first = build(&target(), t0 - h, t0, &[], None);
        let v: serde_json::Value = serde_json::from_slice(&first.bytes).unwrap();
        assert!(v["previousDigestSignature"].is_null() && v["newestEventTime"].is_null());
        assert!(first.signing_string.ends_with("\nnull"));
        let f = LogFileEntry {
            key: "k".into(),
            hash: "ab".into(),
            newest_us: t0 + 5,
            oldest_us: t0,
        };
        let second = build(&target(), t0, t0 + h, &[f], Some(&first.link));
        let v: serde_json::Value = serde_json::from_slice(&second.bytes).unwrap();
        assert_eq!(v["previousDigestHashValue"], sha256_hex(&first.bytes));
        assert_eq!(v["previousDigestSignature"], first.link.signature.as_str());
        assert_eq!(v["logFiles"][0]["hashValue"], "ab");
        // Same key order as AWS's documented example.
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            &keys[..3],
            ["awsAccountId", "digestStartTime", "digestEndTime"]
        );
        assert_eq!(keys.last(), Some(&"logFiles"));
    }
}
