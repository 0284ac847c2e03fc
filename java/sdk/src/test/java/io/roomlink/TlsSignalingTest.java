package io.roomlink;

import static io.roomlink.Fixtures.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.roomlink.testkit.TestRoomServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Signaling runs inside TLS 1.3 by default; the certificate checks fail joins as documented. */
class TlsSignalingTest {
    private static final Duration SHORT_JOIN = Duration.ofMillis(1500);
    private static final List<String> CONNECT_FAILED = List.of(
            "state(CONNECTING, JOIN_CHANNEL)",
            "state(FAILED, JOIN_CHANNEL_FAILED)",
            "onJoinChannel(CONNECT_FAILED, uid=1)");

    @Test
    void aClientSpeaksTlsFirstAndNoCredentialCrossesTheWireInPlainText() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().tokenSecret(Fixtures.SECRET).start();
             CaptureRelay relay = new CaptureRelay("127.0.0.1", rooms.serverSignalPort())) {
            String channel = "secret-room-" + System.nanoTime();
            String token = rooms.token(Fixtures.APP_KEY, channel, 1);
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(Fixtures.config(relay.port()).build(), listener)) {
                Fixtures.joinAndAwait(engine, listener, token, channel, 1);
                engine.leaveChannel();
                listener.awaitEvent("onLeaveChannel(OK)", WAIT);
            }
            byte[] up = relay.upstream();
            // TLS record: handshake (22), legacy version 3.x, then a ClientHello (handshake type 1).
            assertTrue(up.length > 5, "the client sent " + up.length + " bytes");
            assertEquals(22, up[0], "first byte: a TLS handshake record");
            assertEquals(3, up[1], "TLS record version 3.x");
            assertEquals(1, up[5], "the first handshake message is a ClientHello");
            for (byte[] stream : List.of(up, relay.downstream())) {
                assertOnlyTlsRecords(stream);
                String text = new String(stream, StandardCharsets.ISO_8859_1);
                assertFalse(text.contains(token), "the token is readable on the wire");
                assertFalse(text.contains(channel), "the channel name is readable on the wire");
            }
        }
    }

    @Test
    void thePlaintextControlShowsWhatTheCaptureWouldFind() throws Exception {
        try (TestRoomServer rooms = TestRoomServer.builder().tokenSecret(Fixtures.SECRET).plaintext().start();
             CaptureRelay relay = new CaptureRelay("127.0.0.1", rooms.serverSignalPort())) {
            String token = rooms.token(Fixtures.APP_KEY, "open-room", 1);
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(
                    Fixtures.config(relay.port()).plaintext(true).build(), listener)) {
                Fixtures.joinAndAwait(engine, listener, token, "open-room", 1);
            }
            String text = new String(relay.upstream(), StandardCharsets.ISO_8859_1);
            assertTrue(text.contains(token), "plaintext: the capture finds the token");
        }
    }

    @Test
    void anUntrustedCertificateFailsTheJoinAsAConnectFailure() {
        try (TestRoomServer rooms = TestRoomServer.start()) {
            RecordingListener listener = new RecordingListener();
            // The JVM's own anchors: they do not include the testkit's self-signed certificate.
            RoomEngineConfig config = RoomEngineConfig.builder().appKey(Fixtures.APP_KEY)
                    .server(rooms.clientHost(), rooms.serverSignalPort()).joinTimeout(SHORT_JOIN).build();
            try (RoomEngine engine = RoomEngine.create(config, listener)) {
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                assertEquals(CONNECT_FAILED, listener.awaitEvent("onJoinChannel(CONNECT_FAILED, uid=1)", WAIT));
            }
            assertEquals(0, rooms.server().sessionCount());
        }
    }

    @Test
    void aCertificateThatDoesNotNameTheServerFailsTheJoin() throws Exception {
        // 127.0.0.2 reaches the same loopback server through the relay, but the certificate names
        // only localhost, 127.0.0.1 and ::1.
        try (TestRoomServer rooms = TestRoomServer.start();
             CaptureRelay relay = new CaptureRelay("127.0.0.2", rooms.serverSignalPort())) {
            RecordingListener listener = new RecordingListener();
            RoomEngineConfig config = Fixtures.config(relay.port()).server("127.0.0.2", relay.port())
                    .joinTimeout(SHORT_JOIN).build();
            try (RoomEngine engine = RoomEngine.create(config, listener)) {
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                assertEquals(CONNECT_FAILED, listener.awaitEvent("onJoinChannel(CONNECT_FAILED, uid=1)", WAIT));
            }
            assertTrue(relay.upstream().length > 0, "the engine did reach the server");
            assertEquals(0, rooms.server().sessionCount());
        }
    }

    @Test
    void theHostNameIsCheckedToo() {
        try (TestRoomServer rooms = TestRoomServer.start()) {
            RecordingListener listener = new RecordingListener();
            RoomEngineConfig config = Fixtures.config(rooms.serverSignalPort())
                    .server("localhost", rooms.serverSignalPort()).build();
            try (RoomEngine engine = RoomEngine.create(config, listener)) {
                Fixtures.joinAndAwait(engine, listener, rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
            }
        }
    }

    @Test
    void aTlsEngineCannotJoinAPlaintextServer() {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().start()) {
            RecordingListener listener = new RecordingListener();
            try (RoomEngine engine = RoomEngine.create(
                    Fixtures.config(rooms.serverSignalPort()).joinTimeout(SHORT_JOIN).build(), listener)) {
                engine.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                assertEquals(CONNECT_FAILED, listener.awaitEvent("onJoinChannel(CONNECT_FAILED, uid=1)", WAIT));
            }
        }
    }

    @Test
    void aPlaintextEngineJoinsAPlaintextServer() {
        try (TestRoomServer rooms = TestRoomServer.builder().plaintext().start()) {
            RecordingListener a = new RecordingListener("A");
            RecordingListener b = new RecordingListener("B");
            try (RoomEngine engineA = RoomEngine.create(
                    Fixtures.config(rooms.serverSignalPort()).plaintext(true).build(), a);
                 RoomEngine engineB = RoomEngine.create(
                         Fixtures.config(rooms.serverSignalPort()).plaintext(true).build(), b)) {
                Fixtures.joinAndAwait(engineA, a, rooms.token(Fixtures.APP_KEY, "room", 1), "room", 1);
                engineB.joinChannel(rooms.token(Fixtures.APP_KEY, "room", 2), "room", 2);
                b.awaitEvent("onUserJoined(1)", WAIT);
                a.awaitEvent("onUserJoined(2)", WAIT);
            }
        }
    }

    @Test
    void aPemWithoutACertificateIsRefusedNamingTheField() {
        RoomEngineConfig config = Fixtures.config(9).trustedCertificates("not a certificate").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RoomEngine.create(config, new RecordingListener()));
        assertTrue(e.getMessage().startsWith("tls_trusted_pem: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Fixtures.config(9).trustedCertificates(" "));
    }

    /** The stream is TLS records end to end (RFC 8446 §5.1): nothing outside them. */
    private static void assertOnlyTlsRecords(byte[] stream) {
        int i = 0;
        while (i + 5 <= stream.length) {
            int type = stream[i] & 0xFF;
            assertTrue(type >= 20 && type <= 23, "byte " + i + ": record type " + type + " is not TLS");
            assertEquals(3, stream[i + 1], "byte " + (i + 1) + ": record version");
            int length = ((stream[i + 3] & 0xFF) << 8) | (stream[i + 4] & 0xFF);
            assertTrue(length <= (1 << 14) + 256, "record length " + length);
            i += 5 + length;
        }
        assertTrue(i >= stream.length, "a partial record at the end is fine, bytes outside a record are not");
    }
}
