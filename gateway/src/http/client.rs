//! Who the client is: its address behind trusted proxies, and the key limits count it by.
//!
//! Behind a CDN the socket peer is the CDN, and the visitor's address is in a header such as
//! `X-Forwarded-For`, which anyone can also send. So the header is read only when the peer is
//! a trusted proxy, right to left: each proxy appends the address it saw, so the rightmost
//! entry that is not itself a trusted proxy is the visitor. With a hop count instead, the
//! entry that many places from the right is taken. An entry that is not an address is logged
//! (once per value) and ends the walk at the last address that was established.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;

use anyhow::Context;
use clap::Args;
use hyper::header::{HeaderMap, HeaderName};
use ipnet::IpNet;
use sha2::{Digest, Sha256};

/// How far back the forwarding header is read.
const MAX_FORWARDED_ENTRIES: usize = 32;
/// Distinct unparsable values logged, so a flood of junk cannot flood the log.
const MAX_LOGGED_BAD_VALUES: usize = 64;

/// `docent serve` flags that tell the gateway how clients reach it and how fast they may go.
#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// Proxies (CIDRs, e.g. 10.0.0.0/8,2001:db8::/32) whose forwarding header is believed.
    /// The header is ignored on connections from any other address.
    #[arg(long, env = "DOCENT_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpNet>,
    /// Behind exactly N proxies: the visitor is the Nth address from the right of the header.
    /// Use it when the proxies' addresses are not known; the peer is then trusted unless
    /// --trusted-proxies is also given.
    #[arg(long, env = "DOCENT_PROXY_HOPS", value_parser = clap::value_parser!(u8).range(1..=16))]
    pub proxy_hops: Option<u8>,
    /// The forwarding header the proxies append to.
    #[arg(long, env = "DOCENT_CLIENT_IP_HEADER", default_value = "x-forwarded-for")]
    pub client_ip_header: HeaderName,
    /// Write client addresses to the access log as a salted hash (new salt each start) instead
    /// of in the clear.
    #[arg(long, env = "DOCENT_HASH_CLIENT_ADDRESSES")]
    pub hash_client_addresses: bool,
    /// Chat messages per minute one client (an IPv4 address or an IPv6 /64) may send.
    #[arg(long, env = "DOCENT_MESSAGES_PER_CLIENT", default_value_t = super::limits::DEFAULT_MESSAGES_PER_CLIENT)]
    pub messages_per_client: u32,
    /// Chat messages per minute in one conversation.
    #[arg(long, env = "DOCENT_MESSAGES_PER_CONVERSATION", default_value_t = super::limits::DEFAULT_MESSAGES_PER_CONVERSATION)]
    pub messages_per_conversation: u32,
}

impl ClientArgs {
    /// Applies the settings to the gateway's state; refuses a zero limit.
    pub fn apply(self, state: &mut super::AppState) -> anyhow::Result<()> {
        let per_client =
            std::num::NonZeroU32::new(self.messages_per_client).context("--messages-per-client must be at least 1")?;
        let per_conversation = std::num::NonZeroU32::new(self.messages_per_conversation)
            .context("--messages-per-conversation must be at least 1")?;
        state.limits = super::limits::Limits::new(per_client, per_conversation);
        state.client_address = ClientAddress::new(self.trusted_proxies, self.proxy_hops, self.client_ip_header);
        if self.hash_client_addresses {
            let salt = crate::auth::random_hex::<16>().context("no randomness for the log salt")?;
            state.client_address.log_salt = Some(salt);
        }
        Ok(())
    }
}

/// The rule that turns a request's peer and headers into the client's address.
#[derive(Default)]
pub struct ClientAddress {
    /// `None`: no proxy is trusted and the peer is the client.
    proxies: Option<Proxies>,
    logged_bad_values: Mutex<HashSet<String>>,
    /// Set when addresses are logged hashed.
    log_salt: Option<String>,
}

struct Proxies {
    trusted: Vec<IpNet>,
    hops: Option<u8>,
    header: HeaderName,
}

impl ClientAddress {
    pub fn new(trusted: Vec<IpNet>, hops: Option<u8>, header: HeaderName) -> ClientAddress {
        let proxies = (!trusted.is_empty() || hops.is_some()).then_some(Proxies { trusted, hops, header });
        ClientAddress { proxies, logged_bad_values: Mutex::default(), log_salt: None }
    }

    /// `client` as the access log shows it: in the clear, or as a salted SHA-256 prefix.
    pub fn for_log(&self, client: IpAddr) -> String {
        match &self.log_salt {
            Some(salt) => crate::auth::hex(&Sha256::digest(format!("{salt}{client}"))[..8]),
            None => client.to_string(),
        }
    }

    /// The client's address for a request from the socket address `peer`.
    pub fn resolve(&self, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
        let peer = canonical(peer);
        let Some(proxies) = &self.proxies else { return peer };
        let is_trusted = |ip: IpAddr| proxies.trusted.iter().any(|net| net.contains(&ip));
        if !proxies.trusted.is_empty() && !is_trusted(peer) {
            return peer;
        }
        let mut entries = headers
            .get_all(&proxies.header)
            .iter()
            .rev()
            .flat_map(|value| value.to_str().unwrap_or("(not text)").rsplit(',').map(str::trim).collect::<Vec<_>>())
            .take(MAX_FORWARDED_ENTRIES);
        let mut client = peer;
        let mut hops_left = proxies.hops;
        while hops_left != Some(0) {
            let Some(entry) = entries.next() else { break };
            let Ok(address) = entry.parse::<IpAddr>().map(canonical) else {
                self.log_bad_value(entry, peer);
                break;
            };
            client = address;
            hops_left = hops_left.map(|hops| hops - 1);
            if hops_left.is_none() && !is_trusted(address) {
                break;
            }
        }
        client
    }

    fn log_bad_value(&self, value: &str, peer: IpAddr) {
        let mut logged = self.logged_bad_values.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if logged.len() < MAX_LOGGED_BAD_VALUES && logged.insert(value.to_owned()) {
            let shown = crate::error::truncate(value, 64);
            tracing::warn!(value = %shown, %peer, "forwarding header entry is not an address; not used");
        }
    }
}

/// An IPv4-mapped IPv6 address is the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// What a limit counts a client by: its IPv4 address, or its IPv6 /64 (one subscriber's
/// network, inside which addresses rotate freely).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    pub fn of(ip: IpAddr) -> ClientKey {
        match canonical(ip) {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                ClientKey(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
            v4 => ClientKey(v4),
        }
    }
}

#[cfg(test)]
mod tests {
    use hyper::header::HeaderValue;

    use super::*;

    fn check(rule: &ClientAddress, peer: &str, forwarded: &[&str], expect: &str) {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        let got = rule.resolve(&headers, peer.parse().unwrap());
        assert_eq!(got, expect.parse::<IpAddr>().unwrap(), "peer {peer}, header {forwarded:?}");
    }

    fn rule(trusted: &[&str], hops: Option<u8>) -> ClientAddress {
        let trusted = trusted.iter().map(|net| net.parse().unwrap()).collect();
        ClientAddress::new(trusted, hops, HeaderName::from_static("x-forwarded-for"))
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        check(&ClientAddress::default(), "203.0.113.9", &["198.51.100.7"], "203.0.113.9");
    }

    #[test]
    fn the_header_is_read_right_to_left_and_only_from_trusted_proxies() {
        let cdn = rule(&["10.0.0.0/8", "fd00::/8"], None);
        check(&cdn, "10.0.0.1", &["198.51.100.7"], "198.51.100.7");
        check(&cdn, "10.0.0.1", &["1.2.3.4, 198.51.100.7"], "198.51.100.7");
        check(&cdn, "10.0.0.1", &["1.2.3.4, 198.51.100.7, 10.0.0.2"], "198.51.100.7");
        check(&cdn, "10.0.0.1", &["1.2.3.4", "198.51.100.7, 10.0.0.2"], "198.51.100.7");
        check(&cdn, "203.0.113.9", &["198.51.100.7"], "203.0.113.9");
        check(&cdn, "10.0.0.1", &[], "10.0.0.1");
        check(&cdn, "10.0.0.1", &["10.0.0.3, 10.0.0.2"], "10.0.0.3");
        check(&cdn, "::ffff:10.0.0.1", &["198.51.100.7"], "198.51.100.7");
        check(&cdn, "fd00::1", &["2001:db8::7"], "2001:db8::7");
    }

    #[test]
    fn unparsable_entries_are_never_accepted() {
        let cdn = rule(&["10.0.0.0/8"], None);
        check(&cdn, "10.0.0.1", &["nonsense"], "10.0.0.1");
        check(&cdn, "10.0.0.1", &["198.51.100.7, nonsense, 10.0.0.2"], "10.0.0.2");
        check(&cdn, "10.0.0.1", &["198.51.100.7:443"], "10.0.0.1");
    }

    #[test]
    fn a_hop_count_takes_the_nth_entry_from_the_right() {
        check(&rule(&[], Some(1)), "192.0.2.1", &["1.2.3.4, 198.51.100.7"], "198.51.100.7");
        check(&rule(&[], Some(2)), "192.0.2.1", &["1.2.3.4, 198.51.100.7, 192.0.2.2"], "198.51.100.7");
        check(&rule(&[], Some(2)), "192.0.2.1", &["198.51.100.7"], "198.51.100.7");
        check(&rule(&["10.0.0.0/8"], Some(1)), "203.0.113.9", &["198.51.100.7"], "203.0.113.9");
    }

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        client: ClientArgs,
    }

    #[test]
    fn proxy_flags_are_validated_when_parsed() {
        use clap::Parser;
        let parsed =
            Flags::try_parse_from(["docent", "--trusted-proxies", "10.0.0.0/8,2001:db8::/32", "--proxy-hops", "2"])
                .unwrap()
                .client;
        assert_eq!(parsed.trusted_proxies.len(), 2);
        assert_eq!(parsed.proxy_hops, Some(2));
        assert_eq!(parsed.client_ip_header, "x-forwarded-for");
        for bad in [
            &["docent", "--trusted-proxies", "10.0.0.1"][..],
            &["docent", "--trusted-proxies", "10.0.0.0/33"],
            &["docent", "--proxy-hops", "0"],
            &["docent", "--client-ip-header", "not a header"],
        ] {
            assert!(Flags::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let key = |ip: &str| ClientKey::of(ip.parse().unwrap());
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:abcd:ef01:2345:6789"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
        assert_ne!(key("192.0.2.1"), key("192.0.2.2"));
    }
}
