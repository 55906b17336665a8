//! Who makes a background call: a reusable buffer of identity strings.
//!
//! Filling an [`Actor`] clears and refills its `String`s, so a worker that
//! writes millions of records allocates its actor buffers once.

use crate::org::{Org, Role, RoleKind, SessionRef};
use crate::record::{Identity, Session};
use crate::rng::Rng;
use crate::time::TimeBuf;

/// Which `userIdentity` shape the actor writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A role session.
    Role,
    /// An IAM user with a long-term key.
    User,
    /// An AWS service acting on its own.
    Service,
    /// The account's root user.
    Root,
    /// A `GetFederationToken` session.
    Federated,
    /// Another account, as the resource owner's copy of a cross-account
    /// call shows the caller (`AWSAccount`).
    Account,
    /// OIDC federation (`WebIdentityUser`); `issuer_arn` holds the provider.
    WebIdentity,
    /// SAML federation (`SAMLUser`); `issuer_arn` holds the provider.
    Saml,
    /// IAM Identity Center user: `principal_id` is the user id, `issuer_arn`
    /// the identity store, `key` the credential id.
    IdentityCenter,
}

/// One actor, with every string the identity needs.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Shape.
    pub kind: ActorKind,
    /// `principalId`.
    pub principal_id: String,
    /// `arn` (session ARN for roles).
    pub arn: String,
    /// `accountId`.
    pub account: String,
    /// `accessKeyId`.
    pub key: String,
    /// `userName` (users) / issuer user name (roles).
    pub user_name: String,
    /// Issuer unique id.
    pub issuer_principal_id: String,
    /// Issuer ARN.
    pub issuer_arn: String,
    /// Session creation date.
    pub created: TimeBuf,
    /// MFA on the session.
    pub mfa: bool,
    /// Instance-profile delivery version, if any.
    pub ec2_delivery: Option<&'static str>,
    /// `sourceIdentity` of the session.
    pub source_identity: String,
    /// `invokedBy` for services, and for role sessions when a service calls
    /// on the session's behalf.
    pub invoked_by: String,
    /// `sourceIPAddress` of the call.
    pub ip: String,
    /// `userAgent` of the call.
    pub agent: &'static str,
    /// Console session.
    pub console: bool,
}

impl Default for Actor {
    fn default() -> Self {
        Actor {
            kind: ActorKind::User,
            principal_id: String::new(),
            arn: String::new(),
            account: String::new(),
            key: String::new(),
            user_name: String::new(),
            issuer_principal_id: String::new(),
            issuer_arn: String::new(),
            created: TimeBuf::default(),
            mfa: false,
            ec2_delivery: None,
            source_identity: String::new(),
            invoked_by: String::new(),
            ip: String::new(),
            agent: "",
            console: false,
        }
    }
}

/// SDK and tool user agents seen in real trails.
pub const SDK_AGENTS: [&str; 8] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython Botocore/1.34.69",
    "aws-sdk-java/2.25.16 Linux/5.10.213-202.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64",
    "aws-sdk-nodejs/2.1583.0 linux/v18.19.1 exec-env/AWS_Lambda_nodejs18.x promise",
    "aws-sdk-js/3.535.0 ua/2.0 os/linux#5.10.210 lang/js md/nodejs#20.11.1",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/sts#1.28.5",
    "[aws-sdk-java/1.12.681 Linux/5.10.213 OpenJDK_64-Bit_Server_VM/11.0.22+7-LTS java/11.0.22 vendor/Amazon.com_Inc. cfg/retry-mode/standard]",
];

/// Browser user agents (console sessions).
pub const CONSOLE_AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.0.0",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
];

fn set(s: &mut String, v: &str) {
    s.clear();
    s.push_str(v);
}

impl Actor {
    /// The record's `userIdentity` for this actor.
    pub fn identity(&self) -> Identity<'_> {
        match self.kind {
            ActorKind::Role | ActorKind::Federated => Identity {
                kind: if self.kind == ActorKind::Role {
                    "AssumedRole"
                } else {
                    "FederatedUser"
                },
                principal_id: Some(&self.principal_id),
                arn: Some(&self.arn),
                account_id: Some(&self.account),
                access_key_id: Some(&self.key),
                session: Some(Session {
                    issuer_type: Some(if self.kind == ActorKind::Role {
                        "Role"
                    } else {
                        "IAMUser"
                    }),
                    issuer_principal_id: &self.issuer_principal_id,
                    issuer_arn: &self.issuer_arn,
                    issuer_account: &self.account,
                    issuer_user_name: &self.user_name,
                    creation_date: self.created.as_str(),
                    mfa: self.mfa,
                    source_identity: (!self.source_identity.is_empty())
                        .then_some(self.source_identity.as_str()),
                    ec2_role_delivery: self.ec2_delivery,
                    web_id_federation: self.ec2_delivery.is_some(),
                }),
                invoked_by: (!self.invoked_by.is_empty()).then_some(self.invoked_by.as_str()),
                ..Identity::default()
            },
            ActorKind::User => Identity {
                kind: "IAMUser",
                principal_id: Some(&self.principal_id),
                arn: Some(&self.arn),
                account_id: Some(&self.account),
                access_key_id: (!self.key.is_empty()).then_some(self.key.as_str()),
                user_name: Some(&self.user_name),
                session: self.console.then_some(Session {
                    creation_date: self.created.as_str(),
                    mfa: self.mfa,
                    ..Session::default()
                }),
                invoked_by: (!self.invoked_by.is_empty()).then_some(self.invoked_by.as_str()),
                ..Identity::default()
            },
            ActorKind::Service => Identity {
                kind: "AWSService",
                invoked_by: Some(&self.invoked_by),
                ..Identity::default()
            },
            ActorKind::Account => Identity {
                kind: "AWSAccount",
                principal_id: Some(&self.principal_id),
                account_id: Some(&self.account),
                ..Identity::default()
            },
            ActorKind::WebIdentity | ActorKind::Saml => Identity {
                kind: if self.kind == ActorKind::Saml {
                    "SAMLUser"
                } else {
                    "WebIdentityUser"
                },
                principal_id: Some(&self.principal_id),
                user_name: Some(&self.user_name),
                identity_provider: Some(&self.issuer_arn),
                ..Identity::default()
            },
            ActorKind::IdentityCenter => Identity {
                kind: "IdentityCenterUser",
                account_id: Some(&self.account),
                on_behalf_of: Some((&self.principal_id, &self.issuer_arn)),
                credential_id: Some(&self.key),
                ..Identity::default()
            },
            ActorKind::Root => Identity {
                kind: "Root",
                principal_id: Some(&self.account),
                arn: Some(&self.arn),
                account_id: Some(&self.account),
                access_key_id: Some(&self.key),
                session: Some(Session {
                    creation_date: self.created.as_str(),
                    mfa: true,
                    ..Session::default()
                }),
                ..Identity::default()
            },
        }
    }

    /// Fills the actor as session `s` in the hour starting at `hour_us`.
    /// `session_name` is chosen by the caller.
    pub fn set_role(&mut self, org: &Org, s: SessionRef, hour_us: i64, session_name: &str) {
        let (account, slot) = (s.account, s.slot);
        let acct = &org.accounts[account];
        let role: &Role = &acct.roles[s.role];
        self.kind = ActorKind::Role;
        set(&mut self.account, &acct.id);
        self.arn.clear();
        self.arn.push_str("arn:aws:sts::");
        self.arn.push_str(&acct.id);
        self.arn.push_str(":assumed-role/");
        self.arn.push_str(&role.name);
        self.arn.push('/');
        self.arn.push_str(session_name);
        self.principal_id.clear();
        self.principal_id.push_str(&role.principal_id);
        self.principal_id.push(':');
        self.principal_id.push_str(session_name);
        let hour = hour_us.div_euclid(3_600_000_000);
        set(&mut self.key, &org.session_key(s, hour));
        set(&mut self.user_name, &role.name);
        set(&mut self.issuer_principal_id, &role.principal_id);
        set(&mut self.issuer_arn, &role.arn);
        // Sessions of an hour are created just before it starts, so every
        // use in the hour follows the creation date.
        self.created
            .set(hour_us - i64::from(slot) * 61_000_000 - 7_000_000);
        self.mfa = false;
        self.ec2_delivery = (role.kind == RoleKind::Instance).then_some("2.0");
        self.source_identity.clear();
        self.invoked_by.clear();
        self.console = false;
    }

    /// Fills the actor as IAM user `user` of `account`.
    pub fn set_user(&mut self, org: &Org, account: usize, user: usize) {
        let acct = &org.accounts[account];
        let u = &acct.users[user];
        self.kind = ActorKind::User;
        set(&mut self.account, &acct.id);
        set(&mut self.arn, &u.arn);
        set(&mut self.principal_id, &u.principal_id);
        set(&mut self.key, &u.key);
        set(&mut self.user_name, &u.name);
        self.mfa = false;
        self.ec2_delivery = None;
        self.source_identity.clear();
        self.invoked_by.clear();
        self.console = false;
    }

    /// Fills the actor as AWS service `service`.
    pub fn set_service(&mut self, service: &str) {
        self.kind = ActorKind::Service;
        set(&mut self.invoked_by, service);
        set(&mut self.ip, service);
        self.agent = "";
        self.key.clear();
        self.account.clear();
    }

    /// Fills the actor as the root user of `account`.
    pub fn set_root(&mut self, org: &Org, account: usize, rng: &mut Rng, hour_us: i64) {
        let acct = &org.accounts[account];
        self.kind = ActorKind::Root;
        set(&mut self.account, &acct.id);
        self.arn.clear();
        self.arn.push_str("arn:aws:iam::");
        self.arn.push_str(&acct.id);
        self.arn.push_str(":root");
        set(
            &mut self.key,
            &Rng::derive(org.seed, &acct.id, hour_us as u64).aws_id("ASIA"),
        );
        self.created
            .set(hour_us - (1 + rng.below(600) as i64) * 1_000_000);
        self.console = true;
        self.invoked_by.clear();
    }
}
