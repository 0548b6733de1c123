//! Who a request comes from. Behind a reverse proxy every connection comes from the proxy, so
//! the relay takes the client's address from `X-Forwarded-For` — but only on connections from
//! a proxy named with `--trusted-proxy`: anyone else could write any address there.
//!
//! Budgets (failed attempts, connections per address) count an IPv6 client by its /64, the
//! block one subscriber is usually given, so a client cannot start afresh by changing the
//! low bits of its address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::AppState;

/// One address or a block of them (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressBlock {
    network: IpAddr,
    prefix: u8,
}

impl AddressBlock {
    pub fn parse(raw: &str) -> Result<AddressBlock, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("{raw:?} is not an IP address or block (like 10.0.0.0/8)"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(AddressBlock { network, prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, canonical(addr)) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` the relay believes.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<AddressBlock>);

impl TrustedProxies {
    pub fn parse(blocks: &[String]) -> Result<TrustedProxies, String> {
        blocks
            .iter()
            .map(|b| AddressBlock::parse(b))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        self.0.iter().any(|b| b.contains(addr))
    }

    /// The client behind a connection from `peer`: the right-most address in
    /// `X-Forwarded-For` that is not itself a trusted proxy, when `peer` is one; `peer`
    /// otherwise (or when the header is missing or unreadable).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for hop in value.split(',') {
                match parse_hop(hop) {
                    Some(addr) => hops.push(addr),
                    None => return peer,
                }
            }
        }
        hops.into_iter()
            .rev()
            .find(|hop| !self.trusts(*hop))
            .unwrap_or(peer)
    }
}

/// One entry of `X-Forwarded-For`: an address, an IPv6 address in brackets, either with a
/// port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(addr);
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip()).or_else(|| {
        hop.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .and_then(|h| h.parse().ok())
    })
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// What a budget counts a client by: an IPv4 address, or an IPv6 address's /64.
pub fn budget_key(addr: IpAddr) -> IpAddr {
    match canonical(addr) {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        v4 => v4,
    }
}

/// The client a request came from (see [`TrustedProxies::client`]); `None` when the server
/// was started without connect info (router tests).
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddr(peer.map(|peer| {
            state.trusted_proxies.client(peer, &parts.headers)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn blocks_parse_and_contain() {
        let block = AddressBlock::parse("10.1.0.0/16").unwrap();
        assert!(block.contains(ip("10.1.200.3")));
        assert!(!block.contains(ip("10.2.0.1")));
        assert!(
            block.contains(ip("::ffff:10.1.0.9")),
            "IPv4 written as IPv6"
        );
        let one = AddressBlock::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6 = AddressBlock::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        assert!(AddressBlock::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("8.8.8.8")));
        for bad in ["", "proxy.example", "10.0.0.0/33", "::/129", "10.0.0.0/x"] {
            assert!(AddressBlock::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &headers), ip("203.0.113.9"));
        assert_eq!(
            trusted.client(ip("198.51.100.1"), &headers),
            ip("198.51.100.1"),
            "anyone else's header is ignored"
        );
        assert_eq!(
            TrustedProxies::default().client(ip("127.0.0.1"), &headers),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop() {
        let trusted = TrustedProxies::parse(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        // The client wrote a fake first hop; our two proxies appended the real one and theirs.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(trusted.client(ip("127.0.0.1"), &headers), ip("203.0.113.9"));
        let with_ports = forwarded(&["[2001:db8::7]:4711, 192.0.2.4:80"]);
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &with_ports),
            ip("192.0.2.4")
        );
        // Unreadable: the proxy itself, never a guess.
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &forwarded(&["unknown"])),
            ip("127.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn budgets_count_ipv6_clients_by_their_64() {
        assert_eq!(budget_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(budget_key(ip("2001:db8:1:2:ffff::9")), ip("2001:db8:1:2::"));
        assert_ne!(budget_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(budget_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(budget_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }
}
