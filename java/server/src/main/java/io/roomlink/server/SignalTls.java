package io.roomlink.server;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/**
 * How the signaling port is secured, as {@link RoomServer.Builder} chose it: TLS 1.3 from PEM
 * files, TLS 1.3 with this JVM's self-signed certificate (dev and tests), or plaintext.
 */
public final class SignalTls {
    /**
     * Which TLS implementation serves the handshakes. {@link #AUTO} (the default): BoringSSL
     * (netty-tcnative, Linux x86-64) when it loads, else the JDK's. BoringSSL costs far less CPU
     * per handshake (X25519 and the ECDSA signature in assembly rather than in Java) and resumes
     * sessions from tickets.
     */
    public enum Provider {
        AUTO, OPENSSL, JDK;

        /** "auto", "openssl" or "jdk" (any case). */
        public static Provider parse(String name) {
            try {
                return valueOf(name.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("TLS provider '" + name + "': expected auto, openssl or jdk");
            }
        }
    }

    /** How long a client may resume a session from a ticket (RFC 8446 allows up to 7 days). */
    static final int SESSION_TIMEOUT_SECONDS = 3600;

    private final Path certChain;
    private final Path privateKey;
    private final boolean selfSigned;
    private final Provider provider;

    private SignalTls(Path certChain, Path privateKey, boolean selfSigned, Provider provider) {
        this.certChain = certChain;
        this.privateKey = privateKey;
        this.selfSigned = selfSigned;
        this.provider = provider;
    }

    private SignalTls(Path certChain, Path privateKey, boolean selfSigned) {
        this(certChain, privateKey, selfSigned, Provider.AUTO);
    }

    SignalTls withProvider(Provider p) {
        return new SignalTls(certChain, privateKey, selfSigned, Objects.requireNonNull(p, "provider"));
    }

    /** The provider asked for ({@link Provider#AUTO} unless set). */
    public Provider provider() {
        return provider;
    }

    /** Netty's provider this choice resolves to on this host: OPENSSL or JDK. */
    SslProvider resolvedProvider() {
        return switch (provider) {
            case JDK -> SslProvider.JDK;
            case OPENSSL -> {
                if (!OpenSsl.isAvailable()) {
                    throw new IllegalStateException("roomlink server: TLS provider openssl unavailable: "
                            + OpenSsl.unavailabilityCause());
                }
                yield SslProvider.OPENSSL;
            }
            case AUTO -> OpenSsl.isAvailable() && SslProvider.isTlsv13Supported(SslProvider.OPENSSL)
                    ? SslProvider.OPENSSL : SslProvider.JDK;
        };
    }

    /** Whether {@code engine} (of a context from {@link #newServerContext()}) resumed a session. */
    static boolean resumed(SSLEngine engine) {
        if (engine instanceof ReferenceCountedOpenSslEngine openSsl) {
            synchronized (openSsl) {
                long ssl = openSsl.sslPointer();
                return ssl != 0 && io.netty.internal.tcnative.SSL.isSessionReused(ssl);
            }
        }
        return false; // the JDK's SSLEngine does not say
    }

    static SignalTls files(Path certChainPem, Path privateKeyPem) {
        Objects.requireNonNull(certChainPem, "certChainPem");
        Objects.requireNonNull(privateKeyPem, "privateKeyPem");
        for (Path file : new Path[] {certChainPem, privateKeyPem}) {
            if (!Files.isReadable(file)) {
                throw new IllegalArgumentException("TLS file " + file + " does not exist or is not readable");
            }
        }
        return new SignalTls(certChainPem, privateKeyPem, false);
    }

    static SignalTls selfSigned() {
        return new SignalTls(null, null, true);
    }

    static SignalTls plaintext() {
        return new SignalTls(null, null, false);
    }

    public boolean isPlaintext() {
        return certChain == null && !selfSigned;
    }

    public boolean isSelfSigned() {
        return selfSigned;
    }

    /** The certificate chain file, or null unless set with {@code tls(certChain, key)}. */
    public Path certChain() {
        return certChain;
    }

    /** The private key file, or null unless set with {@code tls(certChain, key)}. */
    public Path privateKey() {
        return privateKey;
    }

    /**
     * Netty's server context, TLS 1.3 only, from {@link #resolvedProvider()}; null for plaintext.
     * With BoringSSL it issues session tickets under random keys of this context (so tickets do
     * not survive a restart and are never shared between servers).
     */
    SslContext newServerContext() {
        if (isPlaintext()) {
            return null;
        }
        SslContextBuilder builder;
        if (selfSigned) {
            SelfSignedCertificate cert = SelfSignedCertificate.shared();
            builder = SslContextBuilder.forServer(cert.privateKey(), cert.certificate());
        } else {
            builder = SslContextBuilder.forServer(certChain.toFile(), privateKey.toFile());
        }
        SslProvider p = resolvedProvider();
        try {
            SslContext context = builder.sslProvider(p).protocols("TLSv1.3")
                    .sessionTimeout(SESSION_TIMEOUT_SECONDS).build();
            if (context.sessionContext() instanceof OpenSslSessionContext sessions) {
                // Netty turns tickets off (SSL_OP_NO_TICKET) until keys are set.
                SecureRandom random = new SecureRandom();
                byte[] name = new byte[OpenSslSessionTicketKey.NAME_SIZE];
                byte[] hmac = new byte[OpenSslSessionTicketKey.HMAC_KEY_SIZE];
                byte[] aes = new byte[OpenSslSessionTicketKey.AES_KEY_SIZE];
                random.nextBytes(name);
                random.nextBytes(hmac);
                random.nextBytes(aes);
                sessions.setTicketKeys(new OpenSslSessionTicketKey(name, hmac, aes));
                // Tickets carry the state: no server-side cache (its Java upcall per ticket issued).
                sessions.setSessionCacheEnabled(false);
            }
            return context;
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("roomlink server: cannot load TLS " + this + ": " + e.getMessage()
                    + " (the chain and a PKCS#8 key, both PEM)", e);
        }
    }

    @Override
    public String toString() {
        String what = isPlaintext() ? "plaintext" : selfSigned ? "self-signed TLS" : "TLS " + certChain + " + " + privateKey;
        return provider == Provider.AUTO || isPlaintext() ? what : what + " (provider " + provider.name().toLowerCase(Locale.ROOT) + ")";
    }
}
