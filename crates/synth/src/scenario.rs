//! The breach scenarios an archive can carry, by command-line name.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// One embedded breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// A leaked IAM user key used from an attacker address, chaining roles
    /// across two more accounts, reading data, then destroying keys,
    /// backups and logging.
    LeakedKey,
    /// Instance-profile credentials stolen and used from outside AWS.
    StolenInstanceCreds,
    /// Console login without MFA followed by privilege escalation.
    ConsoleNoMfa,
    /// Instances launched in a region outside the approved list.
    UnapprovedRegion,
    /// A SAML / Identity Center federated session doing something sensitive.
    FederatedSession,
}

impl Scenario {
    /// Every scenario, in a fixed order.
    pub const ALL: [Scenario; 5] = [
        Scenario::LeakedKey,
        Scenario::StolenInstanceCreds,
        Scenario::ConsoleNoMfa,
        Scenario::UnapprovedRegion,
        Scenario::FederatedSession,
    ];

    /// The command-line name (`leaked-key`, …).
    pub fn name(self) -> &'static str {
        match self {
            Scenario::LeakedKey => "leaked-key",
            Scenario::StolenInstanceCreds => "stolen-instance-creds",
            Scenario::ConsoleNoMfa => "console-no-mfa",
            Scenario::UnapprovedRegion => "unapproved-region",
            Scenario::FederatedSession => "federated-session",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s.trim())
            .ok_or_else(|| Error::UnknownScenario {
                name: s.to_owned(),
                known: Scenario::ALL.map(Scenario::name).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(s.name().parse::<Scenario>().unwrap(), s);
            assert_eq!(s.to_string(), s.name());
        }
        let e = "nope".parse::<Scenario>().unwrap_err().to_string();
        assert!(e.contains("leaked-key"), "{e}");
    }
}
