package io.roomlink.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The server's signaling security: the required choice, TLS 1.3 only, and the pre-auth deadline. */
class SignalTlsTest {
    @TempDir
    Path dir;

    private static RoomServer.Builder loopback() {
        return RoomServer.builder().bindAddress("127.0.0.1").signalPort(0).mediaPort(0).idleTimeout(Duration.ofMillis(500));
    }

    @Test
    void aBuilderWithoutAChoiceRefusesToStartNamingTheChoices() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> loopback().start());
        assertTrue(e.getMessage().contains("tls(certChainPem, privateKeyPem)") && e.getMessage().contains("selfSignedTls()")
                && e.getMessage().contains("plaintext()"), e.getMessage());
    }

    @Test
    void missingFilesAreRefusedNamingThem() {
        Path missing = dir.resolve("missing.pem");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> loopback().tls(missing, missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void pemFilesServeTls13AndTheClientSeesTheChain() throws Exception {
        SelfSignedCertificate cert = SelfSignedCertificate.shared();
        Path chain = Files.writeString(dir.resolve("chain.pem"), cert.pem());
        Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.privateKey().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        try (RoomServer server = loopback().tls(chain, key).start();
             SSLSocket socket = connect(server, "TLSv1.3")) {
            socket.startHandshake();
            assertEquals("TLSv1.3", socket.getSession().getProtocol());
            assertEquals(cert.certificate(), socket.getSession().getPeerCertificates()[0]);
        }
    }

    @Test
    void eachProviderServesTls13OnlyAndAutoPicksBoringSslWhereItLoads() throws Exception {
        for (SignalTls.Provider p : SignalTls.Provider.values()) {
            if (p == SignalTls.Provider.OPENSSL && !io.netty.handler.ssl.OpenSsl.isAvailable()) {
                assertThrows(IllegalStateException.class, () -> loopback().selfSignedTls().tlsProvider(p).start());
                continue;
            }
            try (RoomServer server = loopback().selfSignedTls().tlsProvider(p).start()) {
                boolean boring = p == SignalTls.Provider.OPENSSL
                        || (p == SignalTls.Provider.AUTO && io.netty.handler.ssl.OpenSsl.isAvailable());
                assertEquals(boring, server.tlsProvider().startsWith("openssl"), p + ": " + server.tlsProvider());
                try (SSLSocket socket = connect(server, "TLSv1.3")) {
                    socket.startHandshake();
                    assertEquals("TLSv1.3", socket.getSession().getProtocol());
                    assertEquals(SelfSignedCertificate.shared().certificate(), socket.getSession().getPeerCertificates()[0]);
                }
                try (SSLSocket socket = connect(server, "TLSv1.2")) {
                    assertThrows(SSLException.class, socket::startHandshake, p + " refuses TLS 1.2");
                }
            }
        }
        assertEquals(SignalTls.Provider.JDK, SignalTls.Provider.parse("jdk"));
        assertThrows(IllegalArgumentException.class, () -> SignalTls.Provider.parse("gnutls"));
    }

    @Test
    void tls12IsRefused() throws Exception {
        try (RoomServer server = loopback().selfSignedTls().start();
             SSLSocket socket = connect(server, "TLSv1.2")) {
            assertThrows(SSLException.class, socket::startHandshake);
        }
    }

    @Test
    void aClientThatNeverCompletesTheHandshakeIsClosedAtThePreAuthDeadline() throws Exception {
        try (RoomServer server = loopback().selfSignedTls().start();
             Socket idle = new Socket(InetAddress.getLoopbackAddress(), server.signalPort())) {
            idle.setSoTimeout(5_000); // 10x the 500 ms deadline
            long t0 = System.nanoTime();
            try {
                assertEquals(-1, new DataInputStream(idle.getInputStream()).read(), "closed without a byte");
            } catch (SocketTimeoutException e) {
                throw new AssertionError("still open after 5 s", e);
            } catch (IOException reset) {
                // closed with a reset: as good
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 2_500, "closed after " + ms + " ms");
        }
    }

    private static SSLSocket connect(RoomServer server, String protocol) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setCertificateEntry("self", CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(SelfSignedCertificate.shared().pem().getBytes(StandardCharsets.US_ASCII))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", server.signalPort());
        socket.setEnabledProtocols(new String[] {protocol});
        socket.setSoTimeout(5_000);
        return socket;
    }
}
