package io.roomlink.server;

import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Blocking signaling client for tests: java.net.Socket plus {@link WireCodec}. A reader thread
 * queues every received message; the end of the stream is queued as {@link #CLOSED}.
 *
 * <p>{@link #keepAlive} sends PINGs in the background (as a real client does) with nonces tagged
 * {@link #KEEPALIVE_NONCE}; their PONGs are dropped by the reader, so tests never see them.
 */
final class TestClient implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(5);

    /** Queued once when the server closed the connection (EOF or reset). */
    static final Object CLOSED = new Object() {
        @Override
        public String toString() {
            return "<connection closed>";
        }
    };

    private final Socket socket;
    private final OutputStream out;
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private volatile boolean closedSeen;
    private volatile List<Long> snapshot = List.of();
    private final KeepAlive keepAlive = new KeepAlive("keepalive");
    private volatile MediaClient media;

    /** High 32 bits of the nonce of a background keepalive PING ("KALV"). */
    static final long KEEPALIVE_NONCE = 0x4B41_4C56_0000_0000L;

    private TestClient(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        Thread reader = new Thread(this::readLoop, "test-client-reader-" + socket.getLocalPort());
        reader.setDaemon(true);
        reader.start();
    }

    static TestClient connect(int port) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        return new TestClient(s);
    }

    private void readLoop() {
        try {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (Message m = WireCodec.readFrame(in); m != null; m = WireCodec.readFrame(in)) {
                if (m instanceof Message.Pong pong && (pong.nonce() & 0xFFFF_FFFF_0000_0000L) == KEEPALIVE_NONCE) {
                    continue; // answer to a background keepalive
                }
                inbox.add(m);
            }
        } catch (IOException e) {
            // reset or closed locally
        } catch (ProtocolException e) {
            inbox.add(new AssertionError("server sent an invalid frame: " + e.getMessage()));
        }
        closedSeen = true;
        inbox.add(CLOSED);
    }

    void send(Message m) throws IOException {
        sendRaw(WireCodec.encode(m));
    }

    /** Synchronized: the keepalive thread writes whole frames too. */
    synchronized void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Next message or {@link #CLOSED}, or null if nothing arrives within {@code timeout}. */
    Object poll(Duration timeout) throws InterruptedException {
        Object o = inbox.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (o instanceof AssertionError e) {
            throw e;
        }
        return o;
    }

    /** The next message, which must be a {@code type}. */
    <T extends Message> T expect(Class<T> type) throws InterruptedException {
        return expect(type, WAIT);
    }

    <T extends Message> T expect(Class<T> type, Duration timeout) throws InterruptedException {
        Object o = poll(timeout);
        assertNotNull(o, "no " + type.getSimpleName() + " within " + timeout);
        return assertInstanceOf(type, o, "expected " + type.getSimpleName() + " but got " + o);
    }

    /** Asserts that the server closes the connection next (no message in between). */
    void expectClosed() throws InterruptedException {
        Object o = poll(WAIT);
        assertTrue(o == CLOSED, "expected the connection to be closed, got " + o);
    }

    /** Asserts that nothing (not even a close) arrives within {@code d}. */
    void expectSilence(Duration d) throws InterruptedException {
        Object o = poll(d);
        if (o != null) {
            fail("expected silence for " + d + " but got " + o);
        }
    }

    /** Everything received until the close (fails if the close does not come in time). */
    List<Object> drainUntilClosed(Duration timeout) throws InterruptedException {
        List<Object> got = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Object o = poll(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (o == null) {
                fail("connection not closed within " + timeout + "; received " + got);
            }
            if (o == CLOSED) {
                return got;
            }
            got.add(o);
        }
    }

    boolean closedByServer() {
        return closedSeen;
    }

    /** Sends PING and expects the PONG echoing it. */
    void pingPong(long nonce) throws Exception {
        send(new Message.Ping(nonce));
        assertEquals(nonce, expect(Message.Pong.class).nonce());
    }

    /** Sends JOIN and expects the presence snapshot ended by JOIN_OK (see {@link #snapshot()}). */
    Message.JoinOk join(String appKey, String channel, long uid, String token, long mediaKey) throws Exception {
        send(new Message.Join(appKey, channel, uid, token, mediaKey, MediaClient.secret(mediaKey)));
        return expectAfterSnapshot(Message.JoinOk.class);
    }

    /** Sends RESUME and expects the presence snapshot ended by RESUME_OK (see {@link #snapshot()}). */
    Message.ResumeOk resume(long sessionId, byte[] secret, long mediaKey) throws Exception {
        send(new Message.Resume(sessionId, secret, mediaKey, MediaClient.secret(mediaKey)));
        return expectAfterSnapshot(Message.ResumeOk.class);
    }

    /** {@link #resume(long, byte[], long)} naming {@code lastReceived}, the last stream item processed. */
    Message.ResumeOk resume(long sessionId, byte[] secret, long mediaKey, long lastReceived) throws Exception {
        send(new Message.Resume(sessionId, secret, mediaKey, MediaClient.secret(mediaKey), lastReceived));
        return expectAfterSnapshot(Message.ResumeOk.class);
    }

    /**
     * Collects PEER_JOINED frames until a {@code type} arrives (docs/PROTOCOL.md: the snapshot
     * comes first, the reply ends it); the uids, in order, are then {@link #snapshot()}.
     */
    <T extends Message> T expectAfterSnapshot(Class<T> type) throws InterruptedException {
        List<Long> uids = new ArrayList<>();
        while (true) {
            Object o = poll(WAIT);
            assertNotNull(o, "no " + type.getSimpleName() + " within " + WAIT + " (snapshot so far " + uids + ")");
            if (o instanceof Message.PeerJoined pj) {
                uids.add(pj.uid());
                continue;
            }
            snapshot = List.copyOf(uids);
            return assertInstanceOf(type, o, "expected " + type.getSimpleName() + " but got " + o);
        }
    }

    /** The PEER_JOINED uids that preceded the last JOIN_OK/RESUME_OK. */
    List<Long> snapshot() {
        return snapshot;
    }

    /** PINGs every {@code period} in the background until {@link #stopKeepAlive()}, close or a send failure. */
    void keepAlive(ScheduledExecutorService scheduler, Duration period) {
        keepAlive.start(scheduler, period, n -> send(new Message.Ping(KEEPALIVE_NONCE | (n & 0xFFFF_FFFFL))));
    }

    /** Signaling goes silent (the connection stays open). */
    void stopKeepAlive() {
        keepAlive.stop();
    }

    /** The media client bound for this client by {@link TestServers#member}, if any. */
    MediaClient media() {
        return media;
    }

    void media(MediaClient m) {
        this.media = m;
    }

    @Override
    public void close() {
        stopKeepAlive();
        try {
            socket.close();
        } catch (IOException e) {
            // ignore
        }
    }

    /** Closes with RST instead of FIN: an abrupt network failure as the server sees it. */
    void abort() throws IOException {
        stopKeepAlive();
        socket.setSoLinger(true, 0);
        socket.close();
    }
}
