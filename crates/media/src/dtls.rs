//! The SFU's crypto provider: str0m's aws-lc-rs provider, but DTLS with one configuration for
//! every connection.
//!
//! str0m's provider builds a fresh DTLS configuration (`dimpl::Config`) for each connection,
//! and building one checks the crypto provider behind it from scratch: two key exchanges in
//! each of the three groups (P-384 the dearest), signature checks, hashes. That is about
//! 1.2 ms of CPU for every participant who joins, on the worker that forwards everyone's
//! media, all of it spent again on a configuration that never differs. Here the configuration
//! is built, and so checked, once per MTU (str0m asks for one size) and shared; each connection
//! gets its own DTLS state on it, as before. The settings are the ones str0m's provider uses:
//! no server cookie (ICE has already checked that the peer answers at its address), the rest
//! dimpl's defaults, aws-lc-rs underneath.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use str0m::crypto::dtls::{
    DtlsCert, DtlsImplError, DtlsInstance, DtlsOutput, DtlsProvider, DtlsVersion, ProtocolVersion,
};
use str0m::crypto::{CryptoError, CryptoProvider};

/// str0m's aws-lc-rs provider with DTLS from [`SharedConfigDtls`].
pub(crate) fn crypto_provider() -> CryptoProvider {
    static DTLS: OnceLock<SharedConfigDtls> = OnceLock::new();
    let base = str0m::crypto::from_feature_flags();
    let dtls = DTLS.get_or_init(|| SharedConfigDtls {
        base: base.dtls_provider,
        configs: Mutex::new(Vec::new()),
    });
    CryptoProvider {
        dtls_provider: dtls,
        ..base
    }
}

/// DTLS connections on one shared `dimpl::Config` per MTU. Certificates come from str0m's own
/// provider.
#[derive(Debug)]
struct SharedConfigDtls {
    base: &'static dyn DtlsProvider,
    /// The configurations built so far, by MTU (`None`: dimpl's default).
    configs: Mutex<Vec<(Option<usize>, Arc<dimpl::Config>)>>,
}

impl SharedConfigDtls {
    fn config(&self, mtu: Option<usize>) -> Result<Arc<dimpl::Config>, CryptoError> {
        // A panic elsewhere cannot leave the list half-changed: it is only ever pushed to.
        let mut configs = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = configs.iter().find(|(m, _)| *m == mtu) {
            return Ok(c.clone());
        }
        let mut builder = dimpl::Config::builder().use_server_cookie(false);
        if let Some(mtu) = mtu {
            builder = builder.mtu(mtu);
        }
        let config = Arc::new(
            builder
                .build()
                .map_err(|e| CryptoError::Other(format!("DTLS configuration: {e}")))?,
        );
        configs.push((mtu, config.clone()));
        Ok(config)
    }
}

impl DtlsProvider for SharedConfigDtls {
    fn generate_certificate(&self) -> Option<DtlsCert> {
        self.base.generate_certificate()
    }

    fn new_dtls(
        &self,
        cert: &DtlsCert,
        now: Instant,
        dtls_version: DtlsVersion,
        mtu: Option<usize>,
    ) -> Result<Box<dyn DtlsInstance>, CryptoError> {
        let config = self.config(mtu)?;
        let cert = cert.clone();
        let dtls = match dtls_version {
            DtlsVersion::Dtls12 => dimpl::Dtls::new_12(config, cert, now),
            DtlsVersion::Dtls13 => dimpl::Dtls::new_13(config, cert, now),
            DtlsVersion::Auto => dimpl::Dtls::new_auto(config, cert, now),
            other => {
                return Err(CryptoError::Other(format!(
                    "DTLS version {other} is not supported"
                )));
            }
        };
        Ok(Box::new(Connection(dtls)))
    }
}

/// One connection's DTLS state.
struct Connection(dimpl::Dtls);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").finish_non_exhaustive()
    }
}

impl DtlsInstance for Connection {
    fn set_active(&mut self, active: bool) {
        self.0.set_active(active);
    }

    fn handle_packet(&mut self, packet: &[u8]) -> Result<(), DtlsImplError> {
        self.0.handle_packet(packet)
    }

    fn poll_output<'a>(&mut self, buf: &'a mut [u8]) -> DtlsOutput<'a> {
        self.0.poll_output(buf)
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), DtlsImplError> {
        self.0.handle_timeout(now)
    }

    fn send_application_data(&mut self, data: &[u8]) -> Result<usize, DtlsImplError> {
        self.0.send_application_data(data)
    }

    fn is_active(&self) -> bool {
        self.0.is_active()
    }

    fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.0.protocol_version()
    }

    fn is_closing(&self) -> bool {
        self.0.is_closing()
    }

    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn close(&mut self) -> Result<(), DtlsImplError> {
        self.0.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // That connections on the shared configuration complete their handshakes is shown by
    // every in-memory SFU test (`crate::tests`): the SFU's peers use this provider.
    #[test]
    fn connections_share_one_configuration_per_mtu() {
        let dtls = SharedConfigDtls {
            base: str0m::crypto::from_feature_flags().dtls_provider,
            configs: Mutex::new(Vec::new()),
        };
        let cert = dtls.generate_certificate().expect("a certificate");
        let now = Instant::now();
        for _ in 0..3 {
            dtls.new_dtls(&cert, now, DtlsVersion::Dtls12, Some(1150))
                .expect("a connection");
        }
        dtls.new_dtls(&cert, now, DtlsVersion::Auto, Some(1200))
            .expect("a connection");
        let configs = dtls.configs.lock().expect("not poisoned");
        let mtus: Vec<_> = configs.iter().map(|(m, _)| *m).collect();
        assert_eq!(mtus, vec![Some(1150), Some(1200)]);
        assert_eq!(
            Arc::strong_count(&configs[0].1),
            1,
            "connections dropped with theirs"
        );
    }
}
