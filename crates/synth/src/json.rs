//! A minimal streaming JSON writer into a reused byte buffer.
//!
//! Records are written straight into the delivery file's buffer, in the key
//! order CloudTrail writes, without building a `serde_json::Value` per
//! record: at millions of records that allocation is most of the cost.
//! Commas are placed automatically: every value or key after the first
//! inside an object or array is preceded by one.

/// Writes JSON into `buf`.
pub struct JsonWriter<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> JsonWriter<'a> {
    /// A writer appending to `buf`.
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        JsonWriter { buf, first: true }
    }

    /// A writer continuing an open object or array in `buf` that already
    /// holds at least one member (the next member gets a comma).
    pub fn append(buf: &'a mut Vec<u8>) -> Self {
        JsonWriter { buf, first: false }
    }

    fn sep(&mut self) {
        if !self.first {
            self.buf.push(b',');
        }
        self.first = false;
    }

    /// `{`
    pub fn begin_object(&mut self) {
        self.sep();
        self.buf.push(b'{');
        self.first = true;
    }

    /// `}`
    pub fn end_object(&mut self) {
        self.buf.push(b'}');
        self.first = false;
    }

    /// `[`
    pub fn begin_array(&mut self) {
        self.sep();
        self.buf.push(b'[');
        self.first = true;
    }

    /// `]`
    pub fn end_array(&mut self) {
        self.buf.push(b']');
        self.first = false;
    }

    /// `"key":` (the value follows without a comma).
    pub fn key(&mut self, k: &str) {
        self.sep();
        escape_into(self.buf, k);
        self.buf.push(b':');
        self.first = true;
    }

    /// A string value.
    pub fn string(&mut self, v: &str) {
        self.sep();
        escape_into(self.buf, v);
    }

    /// A string value or `null`.
    pub fn opt_string(&mut self, v: Option<&str>) {
        match v {
            Some(s) => self.string(s),
            None => self.null(),
        }
    }

    /// An integer value.
    pub fn int(&mut self, v: i64) {
        self.sep();
        let mut b = itoa_buf(v);
        self.buf.extend_from_slice(b.as_bytes_mut());
    }

    /// A boolean value.
    pub fn boolean(&mut self, v: bool) {
        self.sep();
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// `null`.
    pub fn null(&mut self) {
        self.sep();
        self.buf.extend_from_slice(b"null");
    }

    /// Already serialised JSON text, inserted as one value.
    pub fn raw(&mut self, json: &str) {
        self.sep();
        self.buf.extend_from_slice(json.as_bytes());
    }

    /// `"key":"value"`.
    pub fn field(&mut self, k: &str, v: &str) {
        self.key(k);
        self.string(v);
    }

    /// `"key":n`.
    pub fn field_int(&mut self, k: &str, v: i64) {
        self.key(k);
        self.int(v);
    }

    /// `"key":true|false`.
    pub fn field_bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.boolean(v);
    }

    /// `"key":{`.
    pub fn object_field(&mut self, k: &str) {
        self.key(k);
        self.begin_object();
    }

    /// `"key":[`.
    pub fn array_field(&mut self, k: &str) {
        self.key(k);
        self.begin_array();
    }
}

struct Itoa {
    bytes: [u8; 20],
    start: usize,
}

impl Itoa {
    fn as_bytes_mut(&mut self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

fn itoa_buf(v: i64) -> Itoa {
    let mut bytes = [0u8; 20];
    let mut i = 20;
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        bytes[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        bytes[i] = b'-';
    }
    Itoa { bytes, start: i }
}

/// Appends `s` as a JSON string literal (quotes included).
pub fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Fast path: almost no value needs escaping; this fold has no early
    // exit, so it vectorises.
    let special = bytes.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !special {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_values_with_commas() {
        let mut buf = Vec::new();
        let mut w = JsonWriter::new(&mut buf);
        w.begin_object();
        w.field("a", "x\"y\n");
        w.field_int("n", -42);
        w.array_field("l");
        w.int(1);
        w.boolean(false);
        w.null();
        w.end_array();
        w.object_field("o");
        w.end_object();
        w.key("r");
        w.raw("{\"z\":1}");
        w.end_object();
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(
            s,
            r#"{"a":"x\"y\n","n":-42,"l":[1,false,null],"o":{},"r":{"z":1}}"#
        );
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["n"], -42);
    }

    proptest::proptest! {
        #[test]
        fn escaping_round_trips(s in "\\PC*|[\\x00-\\x1f\"\\\\]{0,8}") {
            let mut buf = Vec::new();
            escape_into(&mut buf, &s);
            let back: String = serde_json::from_slice(&buf).unwrap();
            proptest::prop_assert_eq!(back, s);
        }

        #[test]
        fn integers_round_trip(v in i64::MIN..i64::MAX) {
            let mut buf = Vec::new();
            JsonWriter::new(&mut buf).int(v);
            proptest::prop_assert_eq!(String::from_utf8(buf).unwrap(), v.to_string());
        }
    }
}
