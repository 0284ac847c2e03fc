package io.roomlink.bench.worker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.roomlink.server.TokenBuilder;
import io.roomlink.server.protocol.MediaCodec;
import io.roomlink.server.protocol.MediaPacket;
import io.roomlink.server.protocol.Message;
import io.roomlink.server.protocol.ProtocolException;
import io.roomlink.server.protocol.WireCodec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A client JVM that speaks the wire protocol itself (docs/PROTOCOL.md), one selector thread for thousands of
 * sessions: it measures what the server node accepts, not what an SDK engine costs to run. Each session is the
 * SDK's join without the engine around it: TCP connect, JOIN, JOIN_OK, then BIND on the media path until BIND_ACK.
 * Driven like {@link ClientWorker} ({@link CommandLoop}): one command per stdin line, one {@code @ok}/{@code @err} line each.
 *
 * <pre>
 * join N FIRST_UID HOST PORT PER_CHANNEL PREFIX SECRET TIMEOUT_MS WINDOW
 *            N sessions, uids FIRST_UID.., channel PREFIX + uid/PER_CHANNEL, at most WINDOW joins in flight;
 *            answers when every JOIN has an answer and every BIND its BIND_ACK, or at the timeout
 * leaveall   LEAVE on every session, then close each when the server has closed it
 * msgstart RATE BYTES SAMPLE_EVERY
 *            room messages (issue 12) on every joined session, from a thread of its own: each sends RATE
 *            broadcast MESSAGEs/s of BYTES bytes (its System.nanoTime() in the first 8), reads every ROOM_MESSAGE
 *            and acknowledges the receiver stream as the SDK does (STREAM_ACK after 32 items or within 20 ms);
 *            every SAMPLE_EVERY-th delivery's latency (send → read here) is kept
 * msgmark    counters so far and the latencies since the last mark (sent, delivered, acked, latency p50/p99)
 * msgstop DRAIN_MS
 *            stops sending, reads until every delivery owed has come (or DRAIN_MS), then answers the totals;
 *            "expected" counts each message once for every other member of its channel in this JVM, so
 *            that a harness giving each JVM whole channels can check nothing went missing
 * clock      System.nanoTime()
 * exit
 * </pre>
 */
public final class WireClientWorker {
    private static final String APP_KEY = "bench";
    private static final long BIND_RETRY_NANOS = 300_000_000L;

    private final Selector selector;
    private final DatagramChannel media;
    private final List<Session> sessions = new ArrayList<>();
    private final Map<Long, Session> byMediaKey = new HashMap<>();
    private final SplittableRandom random = new SplittableRandom();
    private final ByteBuffer datagram = ByteBuffer.allocate(MediaCodec.MAX_DATAGRAM);

    private WireClientWorker() throws IOException {
        selector = Selector.open();
        media = DatagramChannel.open();
        media.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        media.bind(new InetSocketAddress("127.0.0.1", 0));
        media.configureBlocking(false);
        media.register(selector, SelectionKey.OP_READ);
    }

    /** One session's socket and what happened to it. */
    private static final java.security.SecureRandom SECRETS = new java.security.SecureRandom();

    private static final class Session {
        final long uid;
        final long mediaKey;
        SocketChannel channel;
        ByteBuffer in = ByteBuffer.allocate(4096);
        /** Frames not yet written (fill mode), for the message load; null before it. */
        ByteBuffer out;
        boolean wantWrite;
        /** Receiver-stream items (PEER_JOINED, PEER_LEFT, ROOM_MESSAGE after JOIN_OK) and how many STREAM_ACK covered. */
        long streamItems;
        long streamAcked;
        long firstUnackedNs;
        /** MESSAGEs sent and the highest MESSAGE_ACK. */
        long msgSeq;
        long msgAcked;
        long delivered;
        String channelName;
        /** The JOIN frame, until it is written. */
        byte[] joinFrame;
        long callNs;
        long joinedNs;
        long boundNs;
        long bindSentNs;
        InetSocketAddress mediaTo;
        String error;
        boolean closedByServer;

        /** Drawn per JOIN, like the SDK's; keys the session's media AEAD. */
        final byte[] mediaSecret = new byte[16];
        final io.roomlink.server.protocol.MediaKeys keys;
        long sent;

        Session(long uid, long mediaKey) {
            this.uid = uid;
            this.mediaKey = mediaKey;
            SECRETS.nextBytes(mediaSecret);
            this.keys = io.roomlink.server.protocol.MediaKeys.derive(mediaKey, mediaSecret);
        }

        boolean answered() {
            return joinedNs != 0 || error != null;
        }

        boolean done() {
            return error != null || boundNs != 0;
        }
    }

    public static void main(String[] args) throws IOException {
        WireClientWorker worker = new WireClientWorker();
        CommandLoop.serve(worker::handle);
        System.exit(0);
    }

    private String handle(String[] a) throws Exception {
        return switch (a[0]) {
            case "join" -> join(Integer.parseInt(a[1]), Long.parseLong(a[2]), new InetSocketAddress(a[3],
                    Integer.parseInt(a[4])), Integer.parseInt(a[5]), a[6], a[7], Long.parseLong(a[8]),
                    Integer.parseInt(a[9]));
            case "leaveall" -> leaveAll();
            case "msgstart" -> msgStart(Integer.parseInt(a[1]), Integer.parseInt(a[2]), Integer.parseInt(a[3]));
            case "msgmark" -> msgMark();
            case "msgstop" -> msgStop(Long.parseLong(a[1]));
            case "clock" -> "ns=" + System.nanoTime();
            default -> throw new IllegalArgumentException("unknown command " + a[0]);
        };
    }

    private String join(int n, long firstUid, InetSocketAddress server, int perChannel, String prefix, String secret,
                        long timeoutMs, int window) throws IOException {
        // Frames are built beforehand: tokens are the app backend's work, not the join's.
        Instant expiry = Instant.now().plusSeconds(3600);
        List<Session> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long uid = firstUid + i;
            String channel = prefix + (uid / perChannel);
            Session s = new Session(uid, random.nextLong() | 1);
            s.channelName = channel;
            batch.add(s);
            s.joinFrame = WireCodec.encode(new Message.Join(APP_KEY, channel, uid,
                    TokenBuilder.build(secret, APP_KEY, channel, uid, expiry), s.mediaKey, s.mediaSecret));
            byMediaKey.put(s.mediaKey, s);
        }
        long first = System.nanoTime();
        long deadline = first + timeoutMs * 1_000_000L;
        int next = 0;
        int inFlight = 0;
        int done = 0;
        long lastResendScan = first;
        while (done < n && System.nanoTime() < deadline) {
            while (inFlight < window && next < n) {
                Session s = batch.get(next);
                s.callNs = System.nanoTime();
                s.channel = SocketChannel.open();
                s.channel.configureBlocking(false);
                s.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                SelectionKey key = s.channel.register(selector, SelectionKey.OP_CONNECT, s);
                if (s.channel.connect(server)) {
                    onConnected(key);
                }
                next++;
                inFlight++;
            }
            selector.select(10);
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.channel() == media) {
                    done += readMedia();
                    continue;
                }
                Session s = (Session) key.attachment();
                boolean wasAnswered = s.answered();
                boolean wasDone = s.done();
                try {
                    if (key.isValid() && key.isConnectable() && s.channel.finishConnect()) {
                        onConnected(key);
                    }
                    if (key.isValid() && key.isReadable()) {
                        read(key, s);
                    }
                } catch (IOException e) {
                    fail(s, e.toString());
                    key.cancel();
                    s.channel.close();
                }
                if (!wasAnswered && s.answered()) {
                    inFlight--;
                }
                if (!wasDone && s.done()) {
                    done++;
                }
            }
            selector.selectedKeys().clear();
            if (System.nanoTime() - lastResendScan > BIND_RETRY_NANOS / 3) {
                lastResendScan = System.nanoTime();
                resendLostBinds(batch);
            }
        }
        sessions.addAll(batch);
        JoinTally tally = new JoinTally();
        int bound = 0;
        long lastBound = 0;
        for (Session s : batch) {
            if (s.error != null) {
                tally.failed(s.error.replace(' ', '_'));
            } else if (s.joinedNs != 0) {
                tally.joined(s.callNs, s.joinedNs);
                if (s.boundNs != 0) {
                    bound++;
                    lastBound = Math.max(lastBound, s.boundNs);
                }
            }
        }
        return "ok=" + tally.ok + " bound=" + bound + " failed=" + tally.failed + " pending=" + (n - tally.ok - tally.failed)
                + " why=" + tally.why() + " firstCallNs=" + first + " lastDoneNs=" + tally.lastDoneNs
                + " lastBoundNs=" + lastBound + " latUs=" + tally.latencyMicros();
    }

    private void onConnected(SelectionKey key) throws IOException {
        Session s = (Session) key.attachment();
        ByteBuffer frame = ByteBuffer.wrap(s.joinFrame);
        s.channel.write(frame);
        if (frame.hasRemaining()) { // a fresh socket's send buffer always takes a JOIN; say so if it did not
            throw new IOException("JOIN not written whole");
        }
        s.joinFrame = null;
        key.interestOps(SelectionKey.OP_READ);
    }

    private void read(SelectionKey key, Session s) throws IOException {
        int r = s.channel.read(s.in);
        if (r < 0) {
            s.closedByServer = true;
            key.cancel();
            s.channel.close();
            if (s.joinedNs == 0) {
                fail(s, "closed before JOIN_OK");
            }
            return;
        }
        s.in.flip();
        frames(s, 0);
        s.in.compact();
    }

    static final int MESSAGE = 0x13;
    static final int MESSAGE_ACK = 0x14;
    static final int ROOM_MESSAGE = 0x15;
    static final int STREAM_ACK = 0x16;
    private static final int PEER_JOINED = 0x08;
    private static final int PEER_LEFT = 0x09;

    /**
     * Every whole frame in {@code s.in} (read mode), leaving its position at the first incomplete one. The room-message
     * frames are read by hand (docs/PROTOCOL.md "Room messages"), without an object per frame; the others go through
     * the server's codec. {@code now} is the time of the read, for the deliveries' latency (0: not timed).
     */
    private void frames(Session s, long now) throws IOException {
        ByteBuffer b = s.in;
        while (b.remaining() >= 6) {
            int p = b.position();
            int len = b.getInt(p);
            if (len < 2 || len > 65536) {
                throw new IOException("bad frame length " + len + " from the server");
            }
            if (4 + len > b.capacity()) {
                throw new IOException("a frame of " + len + " bytes does not fit the read buffer");
            }
            if (b.remaining() < 4 + len) {
                return;
            }
            int type = b.get(p + 5) & 0xff;
            if (type == ROOM_MESSAGE) {
                s.streamItems++;
                s.delivered++;
                if (s.firstUnackedNs == 0) {
                    s.firstUnackedNs = now == 0 ? System.nanoTime() : now;
                }
                if (load != null && now != 0 && len >= 2 + 8 + 1 + 8) {
                    load.onDelivery(now - b.getLong(p + 15));
                }
            } else if (type == MESSAGE_ACK) {
                s.msgAcked = Math.max(s.msgAcked, b.getLong(p + 6));
            } else {
                ByteBuf buf = Unpooled.wrappedBuffer(b.duplicate().position(p).limit(p + 4 + len).slice());
                try {
                    Message m = WireCodec.decode(buf);
                    if (m != null) {
                        onMessage(s, m);
                    }
                } catch (ProtocolException e) {
                    throw new IOException("bad frame from the server: " + e.getMessage(), e);
                }
            }
            b.position(p + 4 + len);
        }
    }

    private void onMessage(Session s, Message m) throws IOException {
        if (m instanceof Message.JoinOk ok && s.joinedNs == 0) {
            s.joinedNs = System.nanoTime();
            s.mediaTo = new InetSocketAddress(ok.mediaHost(), ok.mediaPort());
            sendBind(s);
        } else if (m instanceof Message.JoinErr err) {
            fail(s, "JOIN_ERR " + err.code());
        } else if (m instanceof Message.SessionEnd end) {
            fail(s, "SESSION_END " + end.code());
        } else if (m instanceof Message.Error err) {
            fail(s, "ERROR " + err.code());
        } else if ((m instanceof Message.PeerJoined || m instanceof Message.PeerLeft) && s.joinedNs != 0) {
            s.streamItems++; // the snapshot before JOIN_OK is not part of the receiver stream
            if (s.firstUnackedNs == 0) {
                s.firstUnackedNs = System.nanoTime();
            }
        }
        // PEER_JOINED / PEER_LEFT / LEAVE_OK: the room's traffic, read and dropped
    }

    private void sendBind(Session s) throws IOException {
        s.bindSentNs = System.nanoTime();
        media.send(ByteBuffer.wrap(MediaCodec.seal(new MediaPacket(MediaCodec.BIND, s.mediaKey, ++s.sent, 0, 0),
                s.keys.clientToServer())), s.mediaTo);
    }

    /** @return how many sessions became done */
    private int readMedia() throws IOException {
        int done = 0;
        while (true) {
            datagram.clear();
            if (media.receive(datagram) == null) {
                return done;
            }
            datagram.flip();
            io.netty.buffer.ByteBuf d = Unpooled.wrappedBuffer(datagram);
            Session s = MediaCodec.wellFormed(d) ? byMediaKey.get(MediaCodec.mediaKey(d)) : null;
            MediaPacket p = s == null ? null : MediaCodec.open(d, s.keys.serverToClient());
            if (p != null && p.type() == MediaCodec.BIND_ACK) {
                if (s != null && s.boundNs == 0 && s.error == null) {
                    s.boundNs = System.nanoTime();
                    done++;
                }
            }
        }
    }

    /** UDP may drop a BIND or its ACK under a burst, as the SDK's media path expects; it retries too. */
    private void resendLostBinds(List<Session> batch) throws IOException {
        long now = System.nanoTime();
        for (Session s : batch) {
            if (s.joinedNs != 0 && s.boundNs == 0 && s.error == null && now - s.bindSentNs > BIND_RETRY_NANOS) {
                sendBind(s);
            }
        }
    }

    private static void fail(Session s, String why) {
        if (s.error == null && s.joinedNs == 0) {
            s.error = why;
        } else if (s.error == null) {
            s.error = "after JOIN_OK: " + why;
        }
    }

    private String leaveAll() throws IOException {
        byte[] leave = WireCodec.encode(new Message.Leave());
        int open = 0;
        for (Session s : sessions) {
            if (s.channel != null && s.channel.isOpen()) {
                try {
                    s.channel.write(ByteBuffer.wrap(leave));
                    open++;
                } catch (IOException e) {
                    s.channel.close();
                }
            }
        }
        // The server closes first, so that the TIME_WAITs are its and not ours: a next round needs our ports.
        long deadline = System.nanoTime() + 30_000_000_000L;
        int left = open;
        while (left > 0 && System.nanoTime() < deadline) {
            selector.select(10);
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.channel() == media) {
                    readMedia();
                    continue;
                }
                Session s = (Session) key.attachment();
                try {
                    if (key.isValid() && key.isReadable()) {
                        read(key, s);
                    }
                } catch (IOException e) {
                    key.cancel();
                    s.channel.close();
                }
                if (!s.channel.isOpen()) {
                    left--;
                }
            }
            selector.selectedKeys().clear();
        }
        for (Session s : sessions) {
            if (s.channel != null) {
                s.channel.close();
            }
        }
        int n = sessions.size();
        sessions.clear();
        byMediaKey.clear();
        selector.selectNow();
        return "closed=" + n + " serverClosed=" + (open - left) + " of=" + open;
    }

    // ---- room-message load (issue 12) ----

    /** The load thread of msgstart, or null. */
    private volatile Load load;

    private String msgStart(int rate, int bytes, int sampleEvery) {
        if (load != null) {
            throw new IllegalStateException("a message load is running");
        }
        List<Session> live = new ArrayList<>();
        for (Session s : sessions) {
            if (s.error == null && s.channel != null && s.channel.isOpen() && s.boundNs != 0) {
                live.add(s);
            }
        }
        for (Session s : live) {
            if (s.out == null) {
                s.out = ByteBuffer.allocateDirect(256 << 10);
                ByteBuffer bigger = ByteBuffer.allocate(64 << 10);
                s.in.flip();
                bigger.put(s.in);
                s.in = bigger;
            }
        }
        Load l = new Load(live, rate, bytes, Math.max(1, sampleEvery));
        load = l;
        l.thread.start();
        return "sessions=" + live.size() + " of=" + sessions.size();
    }

    private String msgMark() throws Exception {
        Load l = load;
        if (l == null) {
            throw new IllegalStateException("no message load is running");
        }
        java.util.concurrent.CompletableFuture<String> f = l.mark();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!f.isDone() && l.thread.isAlive() && System.nanoTime() < deadline) {
            try {
                return f.get(50, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                // still running
            }
        }
        if (f.isDone()) {
            return f.get();
        }
        if (!l.thread.isAlive()) {
            return l.result; // the load thread died: its reason
        }
        throw new IllegalStateException("the message load did not answer a mark within 30 s");
    }

    private String msgStop(long drainMs) throws Exception {
        Load l = load;
        if (l == null) {
            throw new IllegalStateException("no message load is running");
        }
        l.drainMs = drainMs;
        l.stopSending = true;
        l.thread.join();
        load = null;
        return l.result;
    }

    /** Sends, reads and acknowledges on every session from one thread, until stopped. */
    private final class Load {
        final List<Session> live;
        final int rate;
        final byte[] padding;
        final int sampleEvery;
        final Thread thread;
        volatile boolean stopSending;
        volatile long drainMs;
        volatile java.util.concurrent.CompletableFuture<String> markRequest;
        String result = "";
        // Owned by the load thread:
        long[] latencies = new long[1 << 16];
        int latencyCount;
        long deliveries;
        long unsent;
        long errors;
        long closed;
        final java.util.TreeMap<String, Integer> why = new java.util.TreeMap<>();

        Load(List<Session> live, int rate, int bytes, int sampleEvery) {
            this.live = live;
            this.rate = rate;
            this.padding = new byte[Math.max(16, bytes)];
            this.sampleEvery = sampleEvery;
            this.thread = new Thread(this::run, "bench-message-load");
        }

        java.util.concurrent.CompletableFuture<String> mark() {
            java.util.concurrent.CompletableFuture<String> f = new java.util.concurrent.CompletableFuture<>();
            markRequest = f;
            return f;
        }

        void onDelivery(long nanos) {
            if (deliveries++ % sampleEvery != 0) {
                return;
            }
            if (latencyCount == latencies.length) {
                if (latencies.length >= (1 << 24)) {
                    return;
                }
                latencies = java.util.Arrays.copyOf(latencies, latencies.length * 2);
            }
            latencies[latencyCount++] = nanos;
        }

        private void run() {
            try {
                loop();
            } catch (Throwable t) {
                result = "failed=" + String.valueOf(t).replace(' ', '_');
                t.printStackTrace();
                java.util.concurrent.CompletableFuture<String> f = markRequest;
                if (f != null) {
                    f.complete(result);
                }
            }
        }

        private void loop() throws IOException {
            int n = live.size();
            long start = System.nanoTime();
            long lastSweep = start;
            long drainDeadline = 0;
            long[] base = new long[n];
            for (int i = 0; i < n; i++) {
                base[i] = live.get(i).msgSeq;
            }
            while (true) {
                long now = System.nanoTime();
                if (!stopSending) {
                    double elapsed = (now - start) / 1e9;
                    for (int i = 0; i < n; i++) {
                        Session s = live.get(i);
                        if (s.error != null || !s.channel.isOpen()) {
                            continue;
                        }
                        long due = base[i] + (long) (elapsed * rate + (double) i / n);
                        while (s.msgSeq < due) {
                            if (s.out.remaining() < 23 + padding.length) {
                                unsent += due - s.msgSeq; // the socket is full: these fall off the schedule
                                base[i] -= due - s.msgSeq;
                                break;
                            }
                            s.msgSeq++;
                            s.out.putInt(2 + 8 + 1 + 8 + padding.length).put((byte) 1).put((byte) MESSAGE)
                                    .putLong(s.msgSeq).put((byte) 0).putLong(0);
                            int at = s.out.position();
                            s.out.put(padding);
                            s.out.putLong(at, System.nanoTime());
                            s.out.putLong(at + 8, s.msgSeq);
                        }
                        try {
                            flush(s);
                        } catch (IOException e) {
                            dead(s, e);
                        }
                    }
                } else if (drainDeadline == 0) {
                    drainDeadline = now + drainMs * 1_000_000L;
                } else if (now > drainDeadline || allDelivered()) {
                    break;
                }
                selector.select(1);
                long readAt = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.channel() == media) {
                        readMedia();
                        continue;
                    }
                    Session s = (Session) key.attachment();
                    try {
                        if (key.isValid() && key.isWritable()) {
                            flush(s);
                        }
                        if (key.isValid() && key.isReadable()) {
                            int r;
                            while ((r = s.channel.read(s.in)) > 0) {
                                s.in.flip();
                                frames(s, readAt);
                                s.in.compact();
                                if (s.in.hasRemaining()) {
                                    break;
                                }
                            }
                            if (r < 0) {
                                closed++;
                                fail(s, "closed by the server");
                                key.cancel();
                                s.channel.close();
                            } else if (s.streamItems - s.streamAcked >= 32) {
                                ack(s);
                            }
                        }
                    } catch (IOException e) {
                        dead(s, e);
                    }
                }
                selector.selectedKeys().clear();
                now = System.nanoTime();
                if (now - lastSweep > 5_000_000L) {
                    lastSweep = now;
                    for (Session s : live) {
                        if (s.streamItems > s.streamAcked && s.channel.isOpen() && now - s.firstUnackedNs > 15_000_000L) {
                            try {
                                ack(s);
                            } catch (IOException e) {
                                dead(s, e);
                            }
                        }
                    }
                }
                java.util.concurrent.CompletableFuture<String> f = markRequest;
                if (f != null) {
                    markRequest = null;
                    f.complete(counters() + latencyText());
                }
            }
            result = counters() + " expected=" + expected();
        }

        /**
         * A session whose socket failed: first what the server said before it closed (a SESSION_END or ERROR still in
         * the socket's receive buffer names the reason), then the failure itself.
         */
        private void dead(Session s, IOException e) {
            errors++;
            try {
                while (s.channel.read(s.in) > 0) {
                    s.in.flip();
                    frames(s, 0);
                    s.in.compact();
                }
            } catch (IOException | RuntimeException ignored) {
                // gone
            }
            fail(s, e.toString());
            SelectionKey key = s.channel.keyFor(selector);
            if (key != null) {
                key.cancel();
            }
            try {
                s.channel.close();
            } catch (IOException ignored) {
                // closed
            }
        }

        private void ack(Session s) throws IOException {
            if (s.out.remaining() < 14) {
                flush(s);
                if (s.out.remaining() < 14) {
                    return; // next time
                }
            }
            s.out.putInt(2 + 8).put((byte) 1).put((byte) STREAM_ACK).putLong(s.streamItems);
            s.streamAcked = s.streamItems;
            s.firstUnackedNs = 0;
            flush(s);
        }

        private void flush(Session s) throws IOException {
            if (s.out.position() == 0 || !s.channel.isOpen()) {
                return;
            }
            s.out.flip();
            try {
                s.channel.write(s.out);
            } finally {
                s.out.compact();
            }
            boolean want = s.out.position() > 0;
            if (want != s.wantWrite) {
                s.wantWrite = want;
                SelectionKey key = s.channel.keyFor(selector);
                if (key != null && key.isValid()) {
                    key.interestOps(want ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
                }
            }
        }

        private long expected() {
            Map<String, long[]> channels = new HashMap<>(); // channel -> {members, messages sent}
            for (Session s : live) {
                long[] c = channels.computeIfAbsent(s.channelName, k -> new long[2]);
                c[0]++;
                c[1] += s.msgSeq;
            }
            long e = 0;
            for (long[] c : channels.values()) {
                e += c[1] * (c[0] - 1);
            }
            return e;
        }

        private boolean allDelivered() {
            long d = 0;
            long acked = 0;
            long sent = 0;
            for (Session s : live) {
                d += s.delivered;
                acked += s.msgAcked;
                sent += s.msgSeq;
            }
            return d >= expected() && acked >= sent;
        }

        private String counters() {
            long sent = 0;
            long acked = 0;
            long delivered = 0;
            long open = 0;
            for (Session s : live) {
                sent += s.msgSeq;
                acked += s.msgAcked;
                delivered += s.delivered;
                if (s.channel.isOpen() && s.error == null) {
                    open++;
                }
            }
            java.util.TreeMap<String, Integer> reasons = new java.util.TreeMap<>();
            for (Session s : live) {
                if (s.error != null) {
                    reasons.merge(s.error.replace(' ', '_'), 1, Integer::sum);
                }
            }
            StringBuilder r = new StringBuilder();
            reasons.forEach((k, v) -> r.append(r.length() == 0 ? "" : ",").append(k).append(':').append(v));
            return "ns=" + System.nanoTime() + " sent=" + sent + " acked=" + acked + " delivered=" + delivered
                    + " unsent=" + unsent + " open=" + open + " of=" + live.size() + " errors=" + errors
                    + " closed=" + closed + " why=" + (r.length() == 0 ? "-" : r);
        }

        /** The latencies since the last mark, in µs, and a fresh start. */
        private String latencyText() {
            long[] l = java.util.Arrays.copyOf(latencies, latencyCount);
            latencyCount = 0;
            java.util.Arrays.sort(l);
            if (l.length == 0) {
                return " latN=0";
            }
            return " latN=" + l.length + " latP50Us=" + pct(l, 50) / 1e3 + " latP99Us=" + pct(l, 99) / 1e3
                    + " latMaxUs=" + l[l.length - 1] / 1e3;
        }

        private long pct(long[] sorted, double p) {
            int rank = (int) Math.ceil(p / 100.0 * sorted.length);
            return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
        }
    }
}
