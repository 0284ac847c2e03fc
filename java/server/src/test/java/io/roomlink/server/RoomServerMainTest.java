package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RoomServerMainTest {

    private static RoomServerMain.Options parse(String... args) throws RoomServerMain.UsageException {
        return RoomServerMain.parse(args);
    }

    @Test
    void parsesAllOptions() throws Exception {
        RoomServerMain.Options o = parse("--signal-port", "7000", "--media-port", "7001", "--token-secret", "S",
                "--bind", "127.0.0.1", "--advertise-media", "media.example.net:9000", "--session-grace-ms", "2500",
                "--idle-timeout-ms=1500", "--io-threads", "3", "--accept-backlog", "8192");
        assertEquals(7000, o.signalPort());
        assertEquals(7001, o.mediaPort());
        assertEquals("S", o.tokenSecret());
        assertEquals("127.0.0.1", o.bind());
        assertEquals("media.example.net", o.advertiseHost());
        assertEquals(9000, o.advertisePort());
        assertEquals(2500L, o.sessionGraceMs());
        assertEquals(1500L, o.idleTimeoutMs());
        assertEquals(3, o.ioThreads());
        assertEquals(8192, o.acceptBacklog());

        RoomServerMain.Options d = parse("--signal-port", "0", "--media-port", "0", "--self-signed-tls");
        assertEquals("0.0.0.0", d.bind());
        assertNull(d.tokenSecret());
        assertNull(d.advertiseHost());
        assertNull(d.sessionGraceMs());
        assertNull(d.ioThreads());
        assertNull(d.acceptBacklog());

        RoomServerMain.Options v6 = parse("--signal-port", "1", "--media-port", "2", "--advertise-media", "[::1]:5000", "--self-signed-tls");
        assertEquals("::1", v6.advertiseHost());
        assertEquals(5000, v6.advertisePort());
        assertTrue(parse("--help").help());
    }

    @Test
    void signalingSecurityIsChosenAndPlaintextNeedsDevOrLoopback() throws Exception {
        RoomServerMain.Options self = parse("--signal-port", "0", "--media-port", "0", "--self-signed-tls");
        assertTrue(self.selfSignedTls() && !self.plaintext());
        assertTrue(self.toBuilder().options().signalTls().isSelfSigned());
        RoomServerMain.Options local = parse("--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1");
        assertTrue(local.plaintext(), "loopback: plaintext by default");
        assertTrue(parse("--signal-port", "0", "--media-port", "0", "--plaintext", "--dev").plaintext());
        assertEquals(SignalTls.Provider.AUTO, self.toBuilder().options().signalTls().provider());
        assertEquals(SignalTls.Provider.JDK, parse("--signal-port", "0", "--media-port", "0", "--self-signed-tls",
                "--tls-provider", "jdk").toBuilder().options().signalTls().provider());
        String[][] refused = {
            {"--signal-port", "0", "--media-port", "0", "--self-signed-tls", "--tls-provider", "gnutls"},
            {"--signal-port", "0", "--media-port", "0"},
            {"--signal-port", "0", "--media-port", "0", "--plaintext"},
            {"--signal-port", "0", "--media-port", "0", "--tls-cert", "c.pem"},
            {"--signal-port", "0", "--media-port", "0", "--self-signed-tls", "--plaintext", "--dev"},
        };
        for (String[] args : refused) {
            assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(args), String.join(" ", args));
        }
    }

    @Test
    void rejectsBadArguments() {
        String[][] bad = {
            {},
            {"--media-port", "7001"},
            {"--signal-port", "7000"},
            {"--signal-port", "70000", "--media-port", "7001"},
            {"--signal-port", "x", "--media-port", "7001"},
            {"--signal-port", "7000", "--media-port", "7001", "--bogus", "1"},
            {"--signal-port", "7000", "--media-port", "7001", "--token-secret"},
            {"--signal-port", "7000", "--media-port", "7001", "--token-secret", ""},
            {"--signal-port", "7000", "--media-port", "7001", "--advertise-media", "nohost"},
            {"--signal-port", "7000", "--media-port", "7001", "--advertise-media", "h:0"},
            {"--signal-port", "7000", "--media-port", "7001", "--session-grace-ms", "0"},
            {"--signal-port", "7000", "--media-port", "7001", "--session-grace-ms", "-5"},
            {"--signal-port", "7000", "--media-port", "7001", "--signal-port", "7002"},
            {"stray", "--signal-port", "7000", "--media-port", "7001"},
            {"--signal-port", "7000", "--media-port", "7001", "--io-threads", "0"},
            {"--signal-port", "7000", "--media-port", "7001", "--accept-backlog", "-1"},
        };
        for (String[] args : bad) {
            assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(args), String.join(" ", args));
        }
    }

    @Test
    void runReportsUsageWithStatus2() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RoomServerMain.Result r = RoomServerMain.run(new String[] {"--signal-port", "nope"},
                new PrintStream(out, true), new PrintStream(err, true));
        assertNull(r.server());
        assertEquals(2, r.exitStatus());
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.contains("--signal-port must be a port number") && e.contains("usage:"), e);
    }

    @Test
    void debugModeOnAReachableAddressNeedsDev() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RoomServerMain.Result refused = RoomServerMain.run(
                new String[] {"--signal-port", "0", "--media-port", "0", "--bind", "0.0.0.0", "--self-signed-tls"},
                new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true));
        assertNull(refused.server());
        assertEquals(2, refused.exitStatus());
        assertTrue(err.toString(StandardCharsets.UTF_8).contains(RoomServerMain.DEBUG_MODE_REFUSED), err.toString());

        RoomServerMain.Result dev = RoomServerMain.run(
                new String[] {"--signal-port", "0", "--media-port", "0", "--bind", "0.0.0.0", "--self-signed-tls",
                        "--dev"},
                new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(new ByteArrayOutputStream(), true));
        assertNotNull(dev.server());
        dev.server().close();
        assertTrue(RoomServerMain.isLoopback("127.0.0.1"));
        assertTrue(RoomServerMain.isLoopback("::1"));
        assertFalse(RoomServerMain.isLoopback("0.0.0.0"));
    }

    @Test
    void credentialOptionsReachTheBuilder() throws Exception {
        RoomServerOptions o = RoomServerMain.parse(new String[] {"--signal-port", "0", "--media-port", "0",
                "--bind", "127.0.0.1", "--token-secret", "S", "--max-token-lifetime-s", "3600", "--same-uid-policy", "reject-newcomer",
                "--enforce-token-expiry", "--token-expiry-warning-ms", "5000"}).toBuilder().options();
        assertEquals(java.time.Duration.ofHours(1), o.maxTokenLifetime());
        assertEquals(SameUidPolicy.REJECT_NEWCOMER, o.sameUidPolicy());
        assertTrue(o.enforceTokenExpiry());
        assertEquals(java.time.Duration.ofSeconds(5), o.tokenExpiryWarning());
        RoomServerOptions d = RoomServerMain.parse(new String[] {"--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1"})
                .toBuilder().options();
        assertEquals(java.time.Duration.ofHours(24), d.maxTokenLifetime());
        assertEquals(SameUidPolicy.NEWEST_WINS, d.sameUidPolicy());
        assertFalse(d.enforceTokenExpiry());
        assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(new String[] {
            "--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1", "--same-uid-policy", "oldest"}));
        assertThrows(RoomServerMain.UsageException.class, () -> RoomServerMain.parse(new String[] {
            "--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1", "--dev=yes"}));
    }

    @Test
    void runStartsAServerAndWarnsAboutDebugMode() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RoomServerMain.Result r = RoomServerMain.run(
                new String[] {"--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1"},
                new PrintStream(out, true), new PrintStream(err, true));
        assertNotNull(r.server());
        try (RoomServer server = r.server(); TestClient c = TestClient.connect(server.signalPort())) {
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("DEBUG MODE"));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("signal=" + server.signalPort()
                    + " media=" + server.mediaPort()));
            c.join("app", "room", 1, "", 1);
        }
        ByteArrayOutputStream err2 = new ByteArrayOutputStream();
        RoomServerMain.Result r2 = RoomServerMain.run(
                new String[] {"--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1", "--token-secret", "s"},
                new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err2, true));
        r2.server().close();
        assertEquals("", err2.toString(StandardCharsets.UTF_8));
    }

    private static ProcessBuilder javaMain(String... args) {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java.toString(), "-cp",
                System.getProperty("java.class.path"), RoomServerMain.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    @Test
    void processExitsWith2OnBadArguments() throws Exception {
        Process p = javaMain("--bogus").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), output);
        assertTrue(output.contains("usage:"), output);
    }

    @Test
    void processServesUntilSigtermThenSaysGoodbye() throws Exception {
        Process p = javaMain("--signal-port", "0", "--media-port", "0", "--bind", "127.0.0.1",
                "--token-secret", "S").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            Matcher m = null;
            Pattern listening = Pattern.compile("roomlink server listening signal=(\\d+) media=(\\d+)");
            while ((line = out.readLine()) != null) {
                m = listening.matcher(line);
                if (m.find()) {
                    break;
                }
            }
            assertNotNull(line, "the server printed no listening line");
            int signalPort = Integer.parseInt(m.group(1));
            try (TestClient c = TestClient.connect(signalPort)) {
                String token = TokenBuilder.build("S", "app", "room", 1, java.time.Instant.now().plusSeconds(60));
                c.join("app", "room", 1, token, 1);
                p.destroy(); // SIGTERM
                assertEquals(new Message.SessionEnd(ErrorCodes.SERVER_SHUTDOWN, "server shutting down"),
                        c.expect(Message.SessionEnd.class));
                c.expectClosed();
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the process did not exit after SIGTERM");
        } finally {
            p.destroyForcibly();
        }
    }
}
