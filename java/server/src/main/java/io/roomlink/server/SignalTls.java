package io.roomlink.server;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * How the signaling port is secured, as {@link RoomServer.Builder} chose it: TLS 1.3 from PEM
 * files, TLS 1.3 with this JVM's self-signed certificate (dev and tests), or plaintext.
 */
public final class SignalTls {
    private final Path certChain;
    private final Path privateKey;
    private final boolean selfSigned;

    private SignalTls(Path certChain, Path privateKey, boolean selfSigned) {
        this.certChain = certChain;
        this.privateKey = privateKey;
        this.selfSigned = selfSigned;
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

    /** Netty's server context, TLS 1.3 only, JDK provider; null for plaintext. */
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
        try {
            return builder.sslProvider(SslProvider.JDK).protocols("TLSv1.3").build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalStateException("roomlink server: cannot load TLS " + this + ": " + e.getMessage()
                    + " (the chain and a PKCS#8 key, both PEM)", e);
        }
    }

    @Override
    public String toString() {
        return isPlaintext() ? "plaintext" : selfSigned ? "self-signed TLS" : "TLS " + certChain + " + " + privateKey;
    }
}
