package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.roomlink.server.RoomServer;
import io.roomlink.server.ServerStats;
import io.roomlink.server.SignalTls;
import io.roomlink.testkit.FaultProxy;
import io.roomlink.testkit.TestRoomServer;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS session resumption between real engines and a real server over loopback sockets: a re-join
 * and a reconnect of one engine resume from the server's ticket (the server counts them), a new
 * server at the same address gets the full certificate checks, and the JDK provider still serves.
 */
class TlsResumptionTest {
    private static final Duration SHORT_JOIN = Duration.ofMillis(1500);

    @Test
    void aRejoinAndAReconnectResumeTheTlsSession() {
        try (TestRoomServer rooms = TestRoomServer.builder().tokenSecret(Fixtures.SECRET).start()) {
            assumeTrue(rooms.server().tlsProvider().startsWith("openssl"),
                    "BoringSSL unavailable here: " + rooms.server().tlsProvider());
            FaultProxy network = rooms.newFaultProxy();
            ServerStats stats = rooms.server().stats();
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(Fixtures.config(network.signalPort()).build(), listener)) {
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
                assertEquals(1, stats.tlsHandshakes());
                assertEquals(0, stats.tlsResumedHandshakes(), "the first connection: a full handshake");
                engine.leaveChannel();
                listener.awaitEvent("onLeaveChannel(OK)", WAIT);

                listener.clear();
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
                assertEquals(2, stats.tlsHandshakes());
                assertEquals(1, stats.tlsResumedHandshakes(), "the re-join resumed");

                listener.clear();
                network.resetConnections();
                listener.awaitEvent("onRejoinChannel(OK)", WAIT);
                assertEquals(3, stats.tlsHandshakes());
                assertEquals(2, stats.tlsResumedHandshakes(), "the reconnect after a reset resumed");
            }
            assertEquals(java.util.List.of(), listener.violations());
        }
    }

    @Test
    void anotherServerAtTheSameAddressGetsTheFullCertificateChecks(@TempDir Path dir) throws Exception {
        Path chain = dir.resolve("chain.pem");
        Path key = dir.resolve("key.pem");
        writeUntrustedIdentity(chain, key);
        try (TestRoomServer rooms = TestRoomServer.builder().tokenSecret(Fixtures.SECRET).start();
             RoomServer impostor = RoomServer.builder().bindAddress("127.0.0.1").tokenSecret(Fixtures.SECRET)
                     .tls(chain, key).start()) {
            FaultProxy network = rooms.newFaultProxy();
            RecordingListener listener = new RecordingListener();
            RoomEngineConfig config = Fixtures.config(network.signalPort()).joinTimeout(SHORT_JOIN).build();
            try (RoomEngine engine = RoomEngine.create(config, listener)) {
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
                engine.leaveChannel();
                listener.awaitEvent("onLeaveChannel(OK)", WAIT);

                // The same address now leads to a server whose certificate the engine does not trust:
                // the ticket the engine holds is no way around the check.
                network.forwardSignalTo("127.0.0.1", impostor.signalPort());
                listener.clear();
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                listener.awaitEvent("onJoinChannel(CONNECT_FAILED, uid=1)", WAIT);
                assertEquals(0, impostor.stats().tlsHandshakes(), "the impostor completed no handshake");
                assertEquals(0, impostor.sessionCount());

                // Back to the genuine server: the engine joins again.
                network.forwardSignalTo("127.0.0.1", rooms.serverSignalPort());
                listener.clear();
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
            }
        }
    }

    @Test
    void theJdkProviderStillServesTlsAndRejoins() {
        try (TestRoomServer rooms = TestRoomServer.builder().tokenSecret(Fixtures.SECRET)
                .configureServer(b -> b.tlsProvider(SignalTls.Provider.JDK)).start()) {
            assertEquals("jdk", rooms.server().tlsProvider());
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(Fixtures.config(rooms.serverSignalPort()).build(), listener)) {
                for (int i = 0; i < 2; i++) {
                    listener.clear();
                    engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                    listener.awaitEvent("onJoinChannel(OK, uid=1)", WAIT);
                    engine.leaveChannel();
                    listener.awaitEvent("onLeaveChannel(OK)", WAIT);
                }
            }
            assertEquals(2, rooms.server().stats().tlsHandshakes());
            assertTrue(rooms.server().stats().tlsResumedHandshakes() == 0, "not counted with the JDK provider");
        }
    }

    /** An ECDSA P-256 certificate for 127.0.0.1 that no engine here trusts, and its PKCS#8 key. */
    private static void writeUntrustedIdentity(Path chain, Path key) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        KeyPair keys = generator.generateKeyPair();
        X500Name name = new X500Name("CN=impostor");
        Instant now = Instant.now();
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(3600)), name, keys.getPublic());
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        byte[] der = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        Files.writeString(chain, pem("CERTIFICATE", der));
        Files.writeString(key, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    }

    private static String pem(String type, byte[] der) {
        StringWriter out = new StringWriter();
        out.write("-----BEGIN " + type + "-----\n");
        out.write(Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der));
        out.write("\n-----END " + type + "-----\n");
        return out.toString();
    }
}
