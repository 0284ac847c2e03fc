package io.roomlink.bench.scenario;

import io.roomlink.ConnectionState;
import io.roomlink.ConnectionStateChangeReason;
import io.roomlink.RoomEngine;
import io.roomlink.bench.harness.Bench;
import io.roomlink.bench.harness.Local;
import io.roomlink.bench.harness.Probe;
import io.roomlink.bench.harness.RawSignal;
import io.roomlink.bench.harness.TapRelay;
import io.roomlink.bench.report.Metric;
import io.roomlink.server.RoomServer;
import io.roomlink.server.TokenBuilder;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hijack attempts against one victim engine (issue 10: "spoofed BIND, cross-channel key, old
 * secret, sniffed bytes"; goal: none succeeds). The victim's signaling runs through a
 * {@link TapRelay}, so the attacker sees its bytes as an eavesdropper on the path would. Each
 * attack counts as a success if the server grants the attacker what it asked for, or if the
 * victim leaves CONNECTED within {@link #DISTURBANCE} of it:
 * <ol>
 *   <li><b>old secret</b>: after the victim has resumed once, RESUME with the secret of its JOIN_OK;</li>
 *   <li><b>spoofed BIND</b>: a BIND with the victim's (sniffed) mediaKey from another UDP port;</li>
 *   <li><b>cross-channel key</b>: the attacker JOINs its own channel with its own token, naming the
 *       victim's mediaKey, and BINDs it;</li>
 *   <li><b>sniffed bytes</b>: RESUME with the latest session id and secret read off the wire.</li>
 * </ol>
 * An attack that needs something the sniffer could not read (encrypted bytes) fails for lack of it.
 */
final class Hijack extends Scenario {
    private static final String SECRET = "bench-hijack";
    private static final Duration DISTURBANCE = Duration.ofSeconds(3);

    Hijack() {
        super("hijack", "hijack attempts");
    }

    /** What the eavesdropper read off the victim's signaling bytes. */
    private record Sniffed(long sessionId, byte[] joinSecret, byte[] latestSecret, long mediaKey, boolean resumed) {
    }

    @Override
    public void run(Bench bench) throws Exception {
        Map<String, Boolean> outcome = new LinkedHashMap<>();
        List<String> notes = new ArrayList<>();
        try (RoomServer server = RoomServer.builder().bindAddress("127.0.0.1").tokenSecret(SECRET).selfSignedTls().start();
                TapRelay tap = new TapRelay(server.signalPort())) {
            Probe victimProbe = new Probe("victim");
            try (RoomEngine victim = RoomEngine.create(Local.config(tap.port()).build(), victimProbe)) {
                victim.joinChannel(token("victims-room", 1), "victims-room", 1);
                Local.awaitJoined(new Local.Member(victim, victimProbe, null, "victims-room", 1));
                // One outage, so that the JOIN_OK's secret is an old one (the server rotates it at RESUME_OK).
                int mark = victimProbe.size();
                tap.resetAll();
                victimProbe.require(mark, e -> e.is(ConnectionState.CONNECTED, ConnectionStateChangeReason.REJOIN_SUCCEED),
                        Local.WAIT, "victim back after the reset");
                Sniffed first = sniff(tap);
                notes.add(first == null ? "sniffer read no credentials (encrypted or unparseable bytes)"
                        : "sniffer read session id, secrets and mediaKey in plain text");
                outcome.put("old secret", first != null && first.resumed()
                        && attempt(victimProbe, () -> resumeGranted(server, first.sessionId(), first.joinSecret())));
                await(victim);
                Sniffed s2 = sniff(tap); // read afresh before each attack: an earlier one may have moved things
                outcome.put("spoofed BIND", s2 != null && attempt(victimProbe, () -> bindAcked(server, s2.mediaKey())));
                await(victim);
                Sniffed s3 = sniff(tap);
                outcome.put("cross-channel key", s3 != null
                        && attempt(victimProbe, () -> crossChannelClaim(server, s3.mediaKey())));
                await(victim);
                Sniffed s4 = sniff(tap);
                outcome.put("sniffed bytes", s4 != null
                        && attempt(victimProbe, () -> resumeGranted(server, s4.sessionId(), s4.latestSecret())));
            }
        }
        int succeeded = (int) outcome.values().stream().filter(b -> b).count();
        StringBuilder which = new StringBuilder();
        outcome.forEach((k, v) -> which.append(which.length() == 0 ? "" : ", ").append(k).append(v ? ": SUCCEEDED" : ": failed"));
        Metric m = add(Metric.value(id(), "hijack attempts (spoofed BIND, cross-channel key, old secret, sniffed bytes)",
                "attacks", succeeded + " of " + outcome.size() + " succeeded", outcome.size()));
        m.goal("0 succeed", x -> succeeded == 0);
        m.note(which.toString());
        notes.forEach(m::note);
        outcome.forEach((k, v) -> m.extra(k, v));
    }

    private interface Attack {
        boolean granted() throws Exception;
    }

    /** Runs the attack: a success if the server granted it or the victim was knocked out of CONNECTED. */
    private static boolean attempt(Probe probe, Attack attack) throws Exception {
        int mark = probe.size();
        boolean granted = attack.granted();
        Probe.Ev disturbed = probe.await(mark, e -> e.kind() == Probe.Kind.STATE && !e.is(ConnectionState.CONNECTED),
                DISTURBANCE);
        return granted || disturbed != null;
    }

    /** Lets the victim get back to CONNECTED after an attack that knocked it out. */
    private static void await(RoomEngine victim) {
        long deadline = System.nanoTime() + Local.WAIT.toNanos();
        while (victim.getConnectionState() != ConnectionState.CONNECTED && System.nanoTime() < deadline) {
            Local.sleepMillis(20);
        }
    }

    private static String token(String channel, long uid) {
        return TokenBuilder.build(SECRET, Local.APP_KEY, channel, uid, Instant.now().plusSeconds(3600));
    }

    /** Parses the captured bytes; null if they are not plaintext frames. */
    private static Sniffed sniff(TapRelay tap) {
        List<Message> up = new ArrayList<>();
        List<Message> down = new ArrayList<>();
        for (byte[] connection : tap.upstream()) {
            up.addAll(frames(connection));
        }
        for (byte[] connection : tap.downstream()) {
            down.addAll(frames(connection));
        }
        long sessionId = 0;
        byte[] joinSecret = null;
        byte[] latest = null;
        long mediaKey = 0;
        boolean resumed = false;
        for (Message m : down) {
            if (m instanceof Message.JoinOk ok) {
                sessionId = ok.sessionId();
                joinSecret = ok.sessionSecret();
                latest = joinSecret;
            } else if (m instanceof Message.ResumeOk ok) {
                sessionId = ok.sessionId();
                latest = ok.sessionSecret();
                resumed = true;
            }
        }
        for (Message m : up) {
            if (m instanceof Message.Join j) {
                mediaKey = j.mediaKey();
            } else if (m instanceof Message.Resume r) {
                mediaKey = r.mediaKey();
            }
        }
        return joinSecret == null ? null : new Sniffed(sessionId, joinSecret, latest, mediaKey, resumed);
    }

    /** The frames at the start of one connection's bytes that parse (none if they are encrypted). */
    private static List<Message> frames(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        List<Message> out = new ArrayList<>();
        try {
            Message m;
            while ((m = WireCodec.decode(buf)) != null) {
                out.add(m);
            }
        } catch (ProtocolException | RuntimeException e) {
            return out; // what parsed before the garbage (TLS records parse as nothing)
        }
        return out;
    }

    /** The attacker's own mediaSecret (it cannot know the victim's, which travels inside TLS). */
    private static final byte[] ATTACKER_SECRET = "attacker secret!".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean resumeGranted(RoomServer server, long sessionId, byte[] secret) throws IOException {
        try (RawSignal s = new RawSignal(server.signalPort(), Duration.ofSeconds(2))) {
            s.send(new Message.Resume(sessionId, secret, 0x4861636b4b657931L, ATTACKER_SECRET));
            return s.answer() instanceof Message.ResumeOk ok && ok.resumed();
        }
    }

    private static boolean bindAcked(RoomServer server, long mediaKey) throws IOException {
        try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            udp.setSoTimeout(500);
            // The attacker knows the mediaKey but not the victim's mediaSecret: it seals with its own.
            io.roomlink.server.protocol.MediaKeys keys =
                    io.roomlink.server.protocol.MediaKeys.derive(mediaKey, ATTACKER_SECRET);
            byte[] bind = MediaCodec.seal(new MediaPacket(MediaCodec.BIND, mediaKey, 1, 1, 0), keys.clientToServer());
            for (int i = 0; i < 3; i++) {
                udp.send(new DatagramPacket(bind, bind.length, InetAddress.getLoopbackAddress(), server.mediaPort()));
                byte[] in = new byte[MediaCodec.MAX_DATAGRAM];
                DatagramPacket p = new DatagramPacket(in, in.length);
                try {
                    udp.receive(p);
                    MediaPacket ack = MediaCodec.open(in, 0, p.getLength(), keys.serverToClient());
                    if (ack != null && ack.type() == MediaCodec.BIND_ACK) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    // try again
                }
            }
            return false;
        }
    }

    /** JOIN of the attacker's own channel with the victim's key, then BIND: granted if the BIND is acked. */
    private static boolean crossChannelClaim(RoomServer server, long victimKey) throws IOException {
        try (RawSignal s = new RawSignal(server.signalPort(), Duration.ofSeconds(2))) {
            s.send(new Message.Join(Local.APP_KEY, "attackers-room", 666, token("attackers-room", 666), victimKey,
                    ATTACKER_SECRET));
            if (!(s.answer() instanceof Message.JoinOk)) {
                return false;
            }
            // The attacker's own session has that key now too: the question is whose binding moves,
            // which the victim's state tells (see attempt); the ack alone is the attacker's own.
            bindAcked(server, victimKey);
            return false;
        }
    }
}
